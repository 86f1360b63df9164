import type { Rule } from '@angular-devkit/schematics';
import { elementSchematic, type ElementOptions } from '../element.cjs';

/** `nest g command NAME`: a validated command, its `@CommandHandler` (a provider) and a spec. */
export function main(options: ElementOptions): Rule {
  return elementSchematic(
    {
      kind: 'command',
      registers: { as: 'provider', type: 'handler', suffix: 'Handler' },
    },
    options,
  );
}
