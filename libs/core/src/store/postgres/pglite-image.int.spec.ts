import {
  chmodSync,
  existsSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteSqlClient } from './pglite.sql-client.js';
import { imagePath, startPglite } from './pglite-image.js';
import { PostgresEventStore } from './postgres-event-store.js';

/** An embedded store works: migrated, appended to, read back. */
async function storeWorks(client: PgliteSqlClient): Promise<void> {
  const store = new PostgresEventStore(client, 'img');
  await store.migrate();
  await store.append('s-1', [
    {
      id: '0193a1b2-0000-7000-8000-000000000001',
      type: 'img.Happened',
      revision: 1,
      payload: { n: 1 },
      metadata: { correlationId: '0193a1b2-0000-7000-8000-000000000001' },
      timestamp: new Date(),
    },
  ]);
  const read = [];
  for await (const event of store.readStream('s-1')) read.push(event.payload);
  expect(read).toEqual([{ n: 1 }]);
}

describe('in-memory PGlite from a saved image of a fresh data directory', () => {
  let folder: string;
  const before = process.env.CHRONICLE_PGLITE_IMAGES;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'chronicle-images-'));
    process.env.CHRONICLE_PGLITE_IMAGES = folder;
  });

  afterEach(() => {
    if (before === undefined) delete process.env.CHRONICLE_PGLITE_IMAGES;
    else process.env.CHRONICLE_PGLITE_IMAGES = before;
    rmSync(folder, { recursive: true, force: true });
  });

  it('saves the image on the first start, starts the next ones from it, and each is a database of its own', async () => {
    const image = imagePath()!;
    expect(image.startsWith(folder)).toBe(true);
    expect(existsSync(image)).toBe(false);
    const first = PgliteSqlClient.fromInstance(await startPglite());
    expect(existsSync(image)).toBe(true);
    await storeWorks(first);
    // Started from the image: empty (the first one's writes are not in it), and working.
    const db = await startPglite();
    try {
      const second = PgliteSqlClient.fromInstance(db);
      const schemas = await second.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'img'",
      );
      expect(Number(schemas[0].n)).toBe(0);
      await storeWorks(second);
    } finally {
      await db.close();
      await first.database.close();
    }
  });

  it('falls back to a fresh data directory when the image is damaged, and replaces it', async () => {
    const image = imagePath()!;
    writeFileSync(image, 'not a data directory', { mode: 0o600 });
    const db = await startPglite();
    try {
      await storeWorks(PgliteSqlClient.fromInstance(db));
    } finally {
      await db.close();
    }
    // A real image now (a data directory is megabytes): the next start loads it.
    expect(statSync(image).size).toBeGreaterThan(1_000_000);
    const next = await startPglite();
    try {
      await storeWorks(PgliteSqlClient.fromInstance(next));
    } finally {
      await next.close();
    }
  });

  it('does not use a folder others can write to, nor one turned off', () => {
    chmodSync(folder, 0o777);
    expect(imagePath()).toBeUndefined();
    chmodSync(folder, 0o700);
    expect(imagePath()).toBeDefined();
    process.env.CHRONICLE_PGLITE_IMAGES = 'off';
    expect(imagePath()).toBeUndefined();
  });
});
