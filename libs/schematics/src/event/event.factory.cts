import type { Rule } from '@angular-devkit/schematics';
import { elementSchematic, type ElementOptions } from '../element.cjs';

/** `nest g event NAME`: an event class with its type name, and a spec. Events are not providers. */
export function main(options: ElementOptions): Rule {
  return elementSchematic(
    { kind: 'event', registers: { as: 'nothing' } },
    options,
  );
}
