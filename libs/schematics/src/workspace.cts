import { join, normalize, strings, type Path } from '@angular-devkit/core';
import { SchematicsException, type Tree } from '@angular-devkit/schematics';
import { findNestCliConfigPath, readJsonFile } from '@nestjs/schematics';

/** The part of nest-cli.json these schematics read. */
interface NestCliConfig {
  readonly sourceRoot?: string;
  readonly projects?: Record<string, { readonly sourceRoot?: string }>;
}

/** The workspace's Nest CLI configuration, or an empty one outside a Nest workspace. */
export function readNestCliConfig(tree: Tree): NestCliConfig {
  const path = findNestCliConfigPath(tree);
  return (path && readJsonFile<NestCliConfig>(tree, path)) || {};
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * A schematic's NAME, dasherized (`PlaceOrder` and `place-order` both give
 * `place-order`), or a SchematicsException saying what a valid name is: the
 * name becomes a file name, a class name and part of a message type name, so
 * only letters, digits and single dashes can work for all three.
 */
export function validName(name: string | undefined, kind: string): string {
  if (name === undefined || name.trim() === '') {
    throw new SchematicsException(
      `The ${kind} needs a name, e.g. place-order.`,
    );
  }
  const dashed = strings.dasherize(name.trim());
  if (!NAME.test(dashed)) {
    throw new SchematicsException(
      `"${name}" is not a valid ${kind} name: use letters, digits and dashes, ` +
        'starting with a letter (e.g. place-order or PlaceOrder).',
    );
  }
  return dashed;
}

/** Where a generated element goes and which app's message types it names. */
export interface Target {
  /** The folder the files are written to. */
  readonly directory: Path;
  /** The app name that prefixes message type names (`orders` in `orders.PlaceOrder`). */
  readonly app: string;
}

export interface TargetOptions {
  /** The name as typed, possibly with folders: `billing/place-order`. */
  readonly name: string;
  readonly path?: string;
  readonly project?: string;
  readonly sourceRoot?: string;
  readonly flat?: boolean;
}

/**
 * Resolves the folder and the app for `nest g <kind> NAME [-p APP] [--path P] [--flat]`,
 * the way the built-in schematics do: `<sourceRoot>/<path>/<folders of NAME>/<name>`
 * (without the last part when flat). The Nest CLI passes the project's sourceRoot;
 * a schematic run directly gets it from nest-cli.json here.
 */
export function resolveTarget(
  tree: Tree,
  options: TargetOptions,
  kind: string,
): Target & { readonly name: string } {
  const config = readNestCliConfig(tree);
  const projects = config.projects ?? {};
  if (options.project !== undefined && !(options.project in projects)) {
    const known = Object.keys(projects);
    throw new SchematicsException(
      `Project "${options.project}" is not in nest-cli.json (` +
        (known.length > 0
          ? `its projects: ${known.join(', ')}`
          : 'it lists no projects') +
        `). Pass -p with one of them, or leave it out to use the default project.`,
    );
  }
  const segments = options.name.split('/').filter((s) => s !== '');
  const name = validName(segments.pop(), kind);
  const sourceRoot =
    options.sourceRoot ??
    (options.project !== undefined
      ? projects[options.project].sourceRoot
      : undefined) ??
    config.sourceRoot ??
    'src';
  const base = join(
    normalize(sourceRoot),
    normalize(options.path ?? ''),
    ...segments.map((s) => normalize(s)),
  );
  const directory = options.flat ? base : join(base, name);
  return { name, directory, app: appName(tree, options.project, sourceRoot) };
}

/**
 * The app a source root belongs to: the project named with -p, else the
 * nest-cli.json project whose sourceRoot it is, else the package's name
 * (a standard, single-app workspace).
 */
function appName(
  tree: Tree,
  project: string | undefined,
  sourceRoot: string,
): string {
  if (project !== undefined) return project;
  const projects = readNestCliConfig(tree).projects ?? {};
  const owner = Object.entries(projects).find(
    ([, p]) =>
      p.sourceRoot !== undefined &&
      normalize(p.sourceRoot) === normalize(sourceRoot),
  );
  if (owner) return owner[0];
  const pkg = readJsonFile<{ name?: string }>(tree, 'package.json');
  const name = pkg?.name?.replace(/^@[^/]+\//, '');
  return name ? strings.dasherize(name) : 'app';
}
