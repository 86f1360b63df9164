import { resolve } from 'node:path';
import type { Rule, Tree } from '@angular-devkit/schematics';

type Prettier = typeof import('prettier');

const FORMATTED = /\.(ts|cts|mts|js|cjs|mjs)$/;

/**
 * Formats the TypeScript and JavaScript files this schematic created or
 * changed with the workspace's Prettier and its settings, so that generated
 * code passes a `prettier --check` lint. A workspace without Prettier is left
 * as written. (@nestjs/schematics' formatFiles looks its settings up from the
 * tree's path, "/apps/...", which on disk is not the workspace; this one reads
 * .prettierrc from the tree, then from the workspace on disk.)
 */
export function formatWritten(): Rule {
  return async (tree) => {
    let prettier: Prettier;
    try {
      prettier = await import('prettier');
    } catch {
      return tree;
    }
    const paths = new Set(
      tree.actions
        .filter((a) => a.kind === 'c' || a.kind === 'o' || a.kind === 'r')
        .map((a) => String(a.path))
        .filter((path) => FORMATTED.test(path) && tree.exists(path)),
    );
    for (const path of paths) {
      const source = tree.readText(path);
      const onDisk = resolve(process.cwd(), `.${path}`);
      const options =
        settingsInTree(tree) ?? (await prettier.resolveConfig(onDisk)) ?? {};
      const formatted = await prettier.format(source, {
        ...options,
        filepath: onDisk,
      });
      if (formatted !== source) tree.overwrite(path, formatted);
    }
    return tree;
  };
}

function settingsInTree(tree: Tree): Record<string, unknown> | undefined {
  if (!tree.exists('.prettierrc')) return undefined;
  try {
    return JSON.parse(tree.readText('.prettierrc')) as Record<string, unknown>;
  } catch {
    // YAML or another format: let Prettier find and read it from disk.
    return undefined;
  }
}
