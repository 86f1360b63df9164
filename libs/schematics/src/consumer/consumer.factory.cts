import { normalize, relative, type Path } from '@angular-devkit/core';
import {
  SchematicsException,
  type Rule,
  type Tree,
} from '@angular-devkit/schematics';
import { elementSchematic, type ElementOptions } from '../element.cjs';
import { readNestCliConfig, type Target } from '../workspace.cjs';

/**
 * `nest g consumer NAME`: a durable `@Consumer` (a provider) of one of the
 * app's events, and a spec. A consumer must handle at least one event to
 * start, so it is generated for the first event class found in the app's
 * sources; point its @HandleEvent at the ones it really needs.
 */
export function main(options: ElementOptions): Rule {
  return elementSchematic(
    {
      kind: 'consumer',
      registers: { as: 'provider', type: 'consumer', suffix: 'Consumer' },
      templateValues: (tree, target) => ({
        ...eventToHandle(tree, target, options),
        consumerName: `${target.app}.${target.name}`,
      }),
    },
    options,
  );
}

const EVENT_CLASS = /@EventType\([^)]*\)\s*export class (\w+)/g;

function eventToHandle(
  tree: Tree,
  target: Target,
  options: ElementOptions,
): { eventClass: string; eventImport: string } {
  const config = readNestCliConfig(tree);
  const root =
    options.sourceRoot ??
    (options.project !== undefined
      ? config.projects?.[options.project]?.sourceRoot
      : undefined) ??
    config.sourceRoot ??
    'src';
  const found: { path: Path; className: string }[] = [];
  tree.getDir(root).visit((path) => {
    if (!path.endsWith('.ts') || /\.spec\.ts$|\.d\.ts$/.test(path)) return;
    for (const match of tree.readText(path).matchAll(EVENT_CLASS)) {
      found.push({ path, className: match[1] });
    }
  });
  found.sort((a, b) => a.path.localeCompare(b.path));
  const event = found[0];
  if (!event) {
    throw new SchematicsException(
      `A consumer handles events, and there is no @EventType class under ${root} yet: ` +
        'generate one first (nest g event NAME), then the consumer.',
    );
  }
  // Both absolute, as the devkit's relative() wants them.
  let path = relative(
    normalize(`/${target.directory}`),
    normalize(`/${event.path}`),
  ).replace(/\.ts$/, '.js');
  if (!path.startsWith('.')) path = `./${path}`;
  return { eventClass: event.className, eventImport: path };
}
