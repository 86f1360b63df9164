import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, type Files } from './run-schematic.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function read(path: string): string {
  return readFileSync(join(REPO, path), 'utf8');
}

function sourcesOf(folder: string): Files {
  const files: Files = {};
  for (const entry of readdirSync(join(REPO, folder), {
    recursive: true,
    withFileTypes: true,
  })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = relative(REPO, join(entry.parentPath, entry.name));
    files[path] = read(path);
  }
  return files;
}

/**
 * This repository as the schematics see it: its workspace configuration and
 * the orders app's sources, read from disk.
 */
export function chronicleRepository(): Files {
  const files: Files = {};
  for (const path of [
    'package.json',
    'nest-cli.json',
    'tsconfig.json',
    'tsconfig.base.json',
    'tsconfig.build.json',
    '.prettierrc',
    'libs/core/tsconfig.lib.json',
    'apps/orders/tsconfig.app.json',
  ]) {
    files[path] = read(path);
  }
  return { ...files, ...sourcesOf('apps/orders/src') };
}

/**
 * What `nest new shop` writes, made by @nestjs/schematics' `application`
 * schematic resolved through Chronicle's collection.
 */
export function freshNestProject(): Files {
  const made = generate(
    'application',
    { name: 'shop', directory: 'shop', packageManager: 'npm', strict: true },
    {},
  );
  const files: Files = {};
  for (const [path, text] of Object.entries(made)) {
    files[path.replace(/^shop\//, '')] = text;
  }
  return files;
}
