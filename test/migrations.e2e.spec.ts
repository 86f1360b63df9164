import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { MIGRATIONS } from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';

const run = promisify(execFile);

// What every instance of an app does at start: migrate the store's schema.
const migrateScript = `
  import { PgSqlClient, PostgresEventStore } from '@chronicle/core';
  const client = PgSqlClient.connect(process.env.DATABASE_URL);
  const applied = await new PostgresEventStore(client, process.env.SCHEMA).migrate();
  console.log(JSON.stringify(applied));
  await client.close();
`;

function startInstance(schema: string) {
  return run(process.execPath, ['--input-type=module', '-e', migrateScript], {
    env: { ...process.env, DATABASE_URL, SCHEMA: schema },
    timeout: 60_000,
  });
}

describe('migrations from several processes', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('procs');
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('two processes starting at once apply each migration exactly once', async () => {
    const outputs = await Promise.all([
      startInstance(schema),
      startInstance(schema),
    ]);
    const applied = outputs.flatMap(
      ({ stdout }) => JSON.parse(stdout) as number[],
    );
    expect(applied.sort((a, b) => a - b)).toEqual(
      MIGRATIONS.map((m) => m.version),
    );

    const { rows } = await pool.query<{ version: number }>(
      `SELECT version FROM "${schema}".migrations ORDER BY version`,
    );
    expect(rows.map((r) => r.version)).toEqual(
      MIGRATIONS.map((m) => m.version),
    );

    // A third start, later, finds nothing to do.
    const { stdout } = await startInstance(schema);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
