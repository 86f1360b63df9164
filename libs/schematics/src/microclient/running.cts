import type { Path } from '@angular-devkit/core';
import type { Rule, Tree } from '@angular-devkit/schematics';

/*
 * How a generated app is started and driven: a `start:NAME` script, the
 * environment file it reads, and what the schematic says when it is done.
 */

/** Where an app of this workspace keeps its embedded store (git-ignored). */
export const dataDirOf = (name: string): string => `.chronicle-data/${name}`;

/** The environment file `npm run start:NAME` reads. */
export const envFileOf = (root: Path, name: string): string =>
  `${root}/${name}.env`;

interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * In a workspace built with `tsc -b` (like this repository), adds
 * `start:NAME`: build, then run the app with its environment file, as the
 * example apps' `start:orders` do. The script goes after the other `start`
 * scripts; one the user already has stays as it is.
 */
export function addStartScript(root: Path, name: string): Rule {
  return (tree) => {
    if (!tree.exists('package.json')) return tree;
    const pkg = tree.readJson('package.json') as PackageJson;
    const scripts = pkg.scripts ?? {};
    const key = `start:${name}`;
    if (key in scripts) return tree;
    const script =
      `npm run build && node --env-file=${envFileOf(root, name)} ` +
      `${root}/dist/main.js`;
    const keys = Object.keys(scripts);
    const after = keys.findLastIndex(
      (k) => k === 'start' || k.startsWith('start:'),
    );
    keys.splice(after === -1 ? keys.length : after + 1, 0, key);
    pkg.scripts = Object.fromEntries(
      keys.map((k) => [k, k === key ? script : scripts[k]]),
    );
    tree.overwrite('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
    writeEnvFile(tree, root, name);
    ignoreDataDirs(tree);
    return tree;
  };
}

function writeEnvFile(tree: Tree, root: Path, name: string): void {
  const path = envFileOf(root, name);
  if (tree.exists(path)) return;
  tree.create(
    path,
    `# Defaults for \`npm run start:${name}\`. Variables already set in the environment win.
#
# Embedded: PGlite keeps the store in this folder across restarts. One process
# at a time opens it, so stop the app before \`npx chronicle send --module ...\`.
CHRONICLE_DATA_DIR=${dataDirOf(name)}
#
# On PostgreSQL and NATS instead (DATABASE_URL wins over CHRONICLE_DATA_DIR):
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
# NATS_URL=nats://127.0.0.1:4222
`,
  );
}

/** The embedded stores (and their lock files) are data, not source. */
function ignoreDataDirs(tree: Tree): void {
  if (!tree.exists('.gitignore')) return;
  const text = tree.readText('.gitignore');
  if (
    text
      .split('\n')
      .some((line) => /^\/?\.chronicle-data\/?$/.test(line.trim()))
  )
    return;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  tree.overwrite('.gitignore', `${text}${separator}.chronicle-data/\n`);
}

/** rspack itself and the webpack plugins Nest's rspack builder uses. */
const BUNDLER = /rspack|webpack/;

/** The dependencies (and dev dependencies) package.json lists now. */
export function dependenciesOf(tree: Tree): Set<string> {
  if (!tree.exists('package.json')) return new Set();
  const pkg = tree.readJson('package.json') as PackageJson;
  return new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ]);
}

/**
 * Nest's sub-app (since @nestjs/schematics 12.0.x) adds @rspack/core and the
 * webpack plugins when it makes a project a monorepo with the rspack builder.
 * A Chronicle app builds with tsc (see useTscBuilder), so those are dropped
 * again before its `npm install` task runs: none of them gets installed.
 * Only bundler packages (rspack, webpack plugins) the project did not list
 * before are dropped.
 */
export function dropBundlerDependencies(before: ReadonlySet<string>): Rule {
  return (tree, context) => {
    if (!tree.exists('package.json')) return tree;
    const pkg = tree.readJson('package.json') as PackageJson;
    const dropped: string[] = [];
    for (const field of ['dependencies', 'devDependencies'] as const) {
      const listed = pkg[field];
      if (!listed) continue;
      for (const name of Object.keys(listed)) {
        if (before.has(name) || !BUNDLER.test(name)) continue;
        delete listed[name];
        dropped.push(name);
      }
    }
    if (dropped.length === 0) return tree;
    tree.overwrite('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
    context.logger.info(
      `Chronicle apps build with tsc, not rspack (a bundle leaves out the files ` +
        `PGlite loads at run time): ${dropped.join(', ')} not added after all.`,
    );
    return tree;
  };
}

/** What to do next, printed once the files are written. */
export function tellNextSteps(
  root: Path,
  name: string,
  example: { readonly command: string; readonly payload: string },
  buildsWithTscB: boolean,
): Rule {
  return (tree, context) => {
    const lines = buildsWithTscB
      ? [
          `  npm run start:${name}`,
          `      build and start it, embedded: its store in ${dataDirOf(name)} (see ${envFileOf(root, name)}); GET /health on PORT (3000)`,
          `  npx chronicle send ${example.command} '${example.payload}' --module ${root}/dist/app.module.js --data-dir ${dataDirOf(name)}`,
          '      send it a command, run in this process on its embedded store (stop the app first: one process at a time)',
          `  npm test -- ${root}`,
          '      run its specs',
        ]
      : [
          `  npx nest build ${name} && node dist/${root}/${root}/src/main.js`,
          '      build and start it: embedded in memory (CHRONICLE_DATA_DIR keeps the store in a folder;',
          '      DATABASE_URL and NATS_URL put it on PostgreSQL and NATS); GET /health on PORT (3000)',
        ];
    context.logger.info(
      [
        '',
        `Next steps for ${root}:`,
        ...lines,
        `  npx nest g command NAME ${name} -p ${name}`,
        '      more commands (and query, event, aggregate, consumer); -p names the app',
        '',
      ].join('\n'),
    );
    return tree;
  };
}
