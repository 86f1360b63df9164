import type { Rule } from '@angular-devkit/schematics';
import { elementSchematic, type ElementOptions } from '../element.cjs';

/** `nest g query NAME`: a validated query, its `@QueryHandler` (a provider) and a spec. */
export function main(options: ElementOptions): Rule {
  return elementSchematic(
    {
      kind: 'query',
      registers: { as: 'provider', type: 'handler', suffix: 'Handler' },
    },
    options,
  );
}
