import { join, strings, type Path } from '@angular-devkit/core';
import {
  apply,
  applyTemplates,
  chain,
  externalSchematic,
  filter,
  MergeStrategy,
  mergeWith,
  move,
  noop,
  SchematicsException,
  url,
  type Rule,
  type Tree,
} from '@angular-devkit/schematics';
import { formatWritten } from '../formatting.cjs';
import { plural, singular } from '../nouns.cjs';
import { inUserOrder } from '../project-order.cjs';
import { readNestCliConfig, validName } from '../workspace.cjs';
import {
  addStartScript,
  dependenciesOf,
  dropBundlerDependencies,
  tellNextSteps,
} from './running.cjs';

export interface MicroclientOptions {
  readonly name: string;
  readonly spec?: boolean;
  readonly specFileSuffix?: string;
  readonly language?: string;
  /** The Nest CLI's `-p`: for a microclient, the new app's own name. */
  readonly project?: string | boolean;
}

/** Where apps go: what `nest g app` uses. */
const APPS = 'apps';

/**
 * `nest g microclient NAME`: a new app under apps/NAME. The built-in
 * `sub-app` schematic does the monorepo bookkeeping (turning a standard
 * project into a monorepo, registering the project in nest-cli.json, the
 * app's tsconfig); its sample controller and service are then replaced by a
 * Chronicle app: ChronicleModule.forRoot, GET /health, a small domain named
 * after the app and its given-when-then spec.
 */
export function main(options: MicroclientOptions): Rule {
  const name = validName(options.name, 'microclient');
  if (options.language !== undefined && options.language !== 'ts') {
    throw new SchematicsException(
      `Chronicle schematics write TypeScript; this workspace's language is "${options.language}".`,
    );
  }
  if (typeof options.project === 'string' && options.project !== name) {
    throw new SchematicsException(
      `-p names the project to generate into, and a microclient is a project of its own: ` +
        `pass -p ${name} (the Nest CLI asks which project in a monorepo unless -p is given), ` +
        `not -p ${options.project}.`,
    );
  }
  const root = join(APPS as Path, name);
  const aggregateFile = singular(name);
  const aggregate = strings.classify(aggregateFile);
  return (tree) => {
    if (name in (readNestCliConfig(tree).projects ?? {})) {
      throw new SchematicsException(
        `Project "${name}" exists in nest-cli.json already: choose another name.`,
      );
    }
    if (tree.getDir(root).subfiles.length + tree.getDir(root).subdirs.length) {
      throw new SchematicsException(
        `${root} exists already: choose another name or remove it.`,
      );
    }
    const projectsBefore = Object.keys(readNestCliConfig(tree).projects ?? {});
    const wasMonorepo = readNestCliConfig(tree).projects !== undefined;
    const dependenciesBefore = dependenciesOf(tree);
    const buildsWithTscB = buildsWithProjectReferences(tree);
    const rootTsConfig = tree.exists('tsconfig.json')
      ? tree.readText('tsconfig.json')
      : null;
    const endingInNewline = ['package.json', 'nest-cli.json', 'tsconfig.json']
      .filter((path) => tree.exists(path))
      .filter((path) => tree.readText(path).endsWith('\n'));
    return chain([
      externalSchematic('@nestjs/schematics', 'sub-app', {
        name,
        language: 'ts',
        specFileSuffix: options.specFileSuffix ?? 'spec',
      }),
      keepProjectOrder(projectsBefore, name),
      wasMonorepo ? noop() : dropBundlerDependencies(dependenciesBefore),
      removeSample(root, name),
      mergeWith(
        apply(url('./files'), [
          options.spec === false
            ? filter(
                (path) => !path.endsWith('.__specFileSuffix__.ts.template'),
              )
            : noop(),
          applyTemplates({
            ...strings,
            name,
            app: name,
            aggregate,
            aggregateFile,
            repository: strings.camelize(plural(aggregateFile)),
            specFileSuffix: options.specFileSuffix ?? 'spec',
          }),
          move(root),
        ]),
        MergeStrategy.Overwrite,
      ),
      buildsWithTscB
        ? useProjectReferences(root, rootTsConfig, options.specFileSuffix)
        : noop(),
      buildsWithTscB ? addStartScript(root, name) : noop(),
      wasMonorepo ? noop() : useTscBuilder(),
      useChronicleCollection(),
      // The templates are formatted for one name length; the workspace's
      // Prettier settles the line breaks for this one.
      formatWritten(),
      keepFinalNewlines(endingInNewline),
      tellNextSteps(
        root,
        name,
        {
          command: `${name}.Create${aggregate}`,
          payload: JSON.stringify({
            [`${strings.camelize(aggregate)}Id`]: `${aggregateFile}-1`,
            title: 'First',
          }),
        },
        buildsWithTscB,
      ),
    ]);
  };
}

/** sub-app rewrites these JSON files without their final newline; give it back. */
function keepFinalNewlines(paths: readonly string[]): Rule {
  return (tree) => {
    for (const path of paths) {
      const text = tree.readText(path);
      if (!text.endsWith('\n')) tree.overwrite(path, `${text}\n`);
    }
    return tree;
  };
}

/**
 * nest-cli.json's projects back in the user's order, the new one last:
 * sub-app sorts them by name, which would rewrite the whole list.
 */
function keepProjectOrder(before: readonly string[], name: string): Rule {
  return (tree) => {
    if (!tree.exists('nest-cli.json')) return tree;
    const config = tree.readJson('nest-cli.json') as {
      projects?: Record<string, unknown>;
    };
    if (!config.projects) return tree;
    config.projects = inUserOrder(config.projects, before, name);
    tree.overwrite('nest-cli.json', `${JSON.stringify(config, null, 2)}\n`);
    return tree;
  };
}

/** Deletes what sub-app wrote that a microclient replaces or does without. */
function removeSample(root: Path, name: string): Rule {
  return (tree) => {
    for (const file of [
      `${name}.controller.ts`,
      `${name}.service.ts`,
      `${name}.module.ts`,
    ]) {
      const path = join(root, 'src', file);
      if (tree.exists(path)) tree.delete(path);
    }
    tree.getDir(join(root, 'src')).visit((path) => {
      if (path.includes(`/${name}.controller.`)) tree.delete(path);
    });
    // Its e2e test drives the sample controller over HTTP with supertest.
    tree.getDir(join(root, 'test')).visit((path) => tree.delete(path));
    return tree;
  };
}

/**
 * A workspace that builds with `tsc -b tsconfig.build.json` over project
 * references (like Chronicle's own repository) rather than with `nest build`.
 */
function buildsWithProjectReferences(tree: Tree): boolean {
  if (!tree.exists('tsconfig.build.json')) return false;
  const build = tree.readJson('tsconfig.build.json') as {
    references?: unknown[];
  };
  return Array.isArray(build.references);
}

/**
 * In a project-references workspace, sub-app's changes to tsconfig.json
 * (it drops `include` and adds references, for `nest build`) would stop that
 * file from type-checking the workspace: it is restored, and the app gets a
 * composite tsconfig.app.json listed in tsconfig.build.json instead.
 */
function useProjectReferences(
  root: Path,
  rootTsConfig: string | null,
  specFileSuffix = 'spec',
): Rule {
  return (tree) => {
    if (rootTsConfig !== null) tree.overwrite('tsconfig.json', rootTsConfig);
    const libs = ['libs/core/tsconfig.lib.json'].filter((lib) =>
      tree.exists(lib),
    );
    tree.overwrite(
      join(root, 'tsconfig.app.json'),
      `${JSON.stringify(
        {
          extends: tree.exists('tsconfig.base.json')
            ? '../../tsconfig.base.json'
            : '../../tsconfig.json',
          compilerOptions: {
            composite: true,
            rootDir: './src',
            outDir: './dist',
            tsBuildInfoFile: './dist/.tsbuildinfo',
          },
          include: ['src/**/*.ts'],
          exclude: [`src/**/*.${specFileSuffix}.ts`],
          references: libs.map((lib) => ({ path: `../../${lib}` })),
        },
        null,
        2,
      )}\n`,
    );
    const build = tree.readJson('tsconfig.build.json') as {
      references: { path: string }[];
    };
    const reference = `./${root}/tsconfig.app.json`;
    if (!build.references.some((r) => r.path === reference)) {
      build.references.push({ path: reference });
      tree.overwrite(
        'tsconfig.build.json',
        `${JSON.stringify(build, null, 2)}\n`,
      );
    }
    return tree;
  };
}

/**
 * After `nest g microclient -c @chronicle/schematics`, make the collection the
 * workspace's default, so `nest g command ...` needs no -c; the built-ins
 * still resolve through it. Another collection the user chose stays.
 */
function useChronicleCollection(): Rule {
  return (tree) => {
    if (!tree.exists('nest-cli.json')) return tree;
    const config = tree.readJson('nest-cli.json') as { collection?: string };
    if (
      config.collection !== undefined &&
      config.collection !== '@nestjs/schematics'
    ) {
      return tree;
    }
    config.collection = '@chronicle/schematics';
    tree.overwrite('nest-cli.json', `${JSON.stringify(config, null, 2)}\n`);
    return tree;
  };
}

/**
 * sub-app sets a new monorepo's builder to rspack; Chronicle apps build with
 * tsc, because a bundle does not carry the files PGlite (the embedded store)
 * loads from its package at run time.
 */
function useTscBuilder(): Rule {
  return (tree) => {
    const path = tree.exists('nest-cli.json') ? 'nest-cli.json' : undefined;
    if (!path) return tree;
    const config = tree.readJson(path) as {
      compilerOptions?: Record<string, unknown>;
    };
    config.compilerOptions = { ...config.compilerOptions, builder: 'tsc' };
    tree.overwrite(path, `${JSON.stringify(config, null, 2)}\n`);
    return tree;
  };
}
