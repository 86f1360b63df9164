import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

/**
 * In-memory PGlite databases started from a saved image of a freshly
 * initialised data directory. A new PGlite runs initdb, ~4 s of CPU; loading
 * the image takes ~1 s. That is every embedded app's start, every
 * `@chronicle/testing` fixture database and every CLI command run against a
 * module, so tests and tools start several times faster.
 *
 * initdb's output depends only on the PGlite release, so the image is kept per
 * release in a folder of this user's own (`<tmpdir>/chronicle-<uid>`, mode
 * 0700; a folder anyone else could write to is not used), written by the first
 * start that finds none (aside, then renamed: a start beside it never reads
 * half a file). `CHRONICLE_PGLITE_IMAGES` names another folder, or `off` turns
 * the images off. Anything wrong with the image (unreadable, refused by
 * PGlite) falls back to initdb and writes a new one.
 */
export async function startPglite(): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const image = imagePath();
  if (image) {
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(image);
    } catch {
      // None yet: made below.
    }
    if (bytes) {
      try {
        return await PGlite.create({ loadDataDir: new Blob([bytes]) });
      } catch {
        rmSync(image, { force: true });
      }
    }
  }
  const db = await PGlite.create();
  if (image) await saveImage(db, image);
  return db;
}

/** Where this PGlite release's image is kept, or undefined when images are off or the folder is not safe. */
export function imagePath(): string | undefined {
  const setting = process.env.CHRONICLE_PGLITE_IMAGES;
  if (setting === 'off') return undefined;
  const folder =
    setting || join(tmpdir(), `chronicle-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const stat = lstatSync(folder);
    const mine = process.getuid === undefined || stat.uid === process.getuid();
    // Only a folder no one else can write to: an image is loaded as a database.
    if (!stat.isDirectory() || !mine || (stat.mode & 0o022) !== 0)
      return undefined;
  } catch {
    return undefined;
  }
  return join(folder, `pglite-${pgliteVersion()}.tar`);
}

async function saveImage(db: PGlite, image: string): Promise<void> {
  const aside = `${image}.${process.pid}.${Date.now()}`;
  try {
    const dump = await db.dumpDataDir('none');
    writeFileSync(aside, Buffer.from(await dump.arrayBuffer()), {
      mode: 0o600,
    });
    chmodSync(aside, 0o600);
    renameSync(aside, image);
  } catch {
    // A read-only or full disk: this start has its database all the same.
    rmSync(aside, { force: true });
  }
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  // Its package.json is not among its exports: found beside dist/.
  const main = require.resolve('@electric-sql/pglite');
  const manifest = join(dirname(main), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string })
    .version;
}
