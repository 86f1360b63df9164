import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATABASE_URL } from '../../test/databases.js';
import { openSqlClient } from './open-sql-client.js';

// Which store an app configured only by its environment opens: what a
// generated app's environment file (CHRONICLE_DATA_DIR) and a deployment
// (DATABASE_URL) rely on.
describe('openSqlClient from the environment', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'chronicle-open-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('keeps an embedded store in CHRONICLE_DATA_DIR, across reopenings', async () => {
    const dataDir = join(parent, 'app');
    const first = await openSqlClient({}, { CHRONICLE_DATA_DIR: dataDir });
    expect(first.driver).toBe('pglite');
    expect(existsSync(`${dataDir}.lock`)).toBe(true);
    await first.query('CREATE TABLE kept (n int)');
    await first.query('INSERT INTO kept VALUES (7)');
    await first.close();

    const second = await openSqlClient({}, { CHRONICLE_DATA_DIR: dataDir });
    try {
      expect(await second.query<{ n: number }>('SELECT n FROM kept')).toEqual([
        { n: 7 },
      ]);
    } finally {
      await second.close();
    }
  });

  it('prefers DATABASE_URL, so setting it moves an app off its data directory', async () => {
    const dataDir = join(parent, 'app');
    const client = await openSqlClient(
      {},
      { DATABASE_URL, CHRONICLE_DATA_DIR: dataDir },
    );
    try {
      expect(client.driver).toBe('pg');
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await client.close();
    }
  });

  it("lets the code's own dataDir win over the environment", async () => {
    const own = join(parent, 'own');
    const client = await openSqlClient(
      { dataDir: own },
      { DATABASE_URL, CHRONICLE_DATA_DIR: join(parent, 'env') },
    );
    try {
      expect(client.driver).toBe('pglite');
      expect(existsSync(`${own}.lock`)).toBe(true);
    } finally {
      await client.close();
    }
  });
});
