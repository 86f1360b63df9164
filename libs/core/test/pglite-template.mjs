// Jest globalSetup: an initialised PGlite data directory, for the store specs'
// `pgliteDatabase()` to boot from instead of running initdb again.
//
// A fresh PGlite spends ~3.5 s of CPU in initdb; one loaded from this tarball
// starts in ~0.4 s. initdb's output depends only on the PGlite release, so the
// tarball is kept in the system's temporary folder under that version, made
// by the first Jest run that finds none (written aside, then renamed, so a
// run beside this one never reads half a file). The embedded store code under
// test (PgliteSqlClient.open, @chronicle/testing's fixtures) still boots PGlite
// its own way in the specs that use it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function pgliteTemplatePath() {
  // Its package.json is not among its exports: found beside dist/.
  const main = require.resolve('@electric-sql/pglite');
  const manifest = join(dirname(main), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  return join(tmpdir(), `chronicle-test-pglite-${version}.tar`);
}

export default async function makePgliteTemplate() {
  const path = pgliteTemplatePath();
  process.env.CHRONICLE_TEST_PGLITE_TEMPLATE = path;
  if (existsSync(path)) return;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    const dump = await db.dumpDataDir('none');
    const aside = `${path}.${process.pid}.${Date.now()}`;
    writeFileSync(aside, Buffer.from(await dump.arrayBuffer()));
    renameSync(aside, path);
  } finally {
    await db.close();
  }
}
