import type { Rule } from '@angular-devkit/schematics';
import { elementSchematic, type ElementOptions } from '../element.cjs';

/** `nest g aggregate NAME`: an aggregate, its first event, a spec; listed in `ChronicleModule.forFeature`. */
export function main(options: ElementOptions): Rule {
  return elementSchematic(
    { kind: 'aggregate', registers: { as: 'aggregate' } },
    options,
  );
}
