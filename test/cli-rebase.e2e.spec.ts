import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  newMessageId,
  PgSqlClient,
  PostgresEventStore,
  TransactionIdsAheadError,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';

const execute = promisify(execFile);
const CLI = fileURLToPath(
  new URL('../libs/core/dist/cli/main.js', import.meta.url),
);

async function chronicle(args: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('chronicle rebase, on built code', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('cli_rebase');
  const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('re-bases a store restored ahead of the counter, so apps start again', async () => {
    await store.migrate();
    for (let i = 0; i < 3; i++) {
      const id = newMessageId();
      await store.append('s', [
        {
          id,
          type: 't.Happened',
          revision: 1,
          payload: { i },
          metadata: { correlationId: id },
          timestamp: new Date(),
        },
      ]);
    }
    await pool.query(
      `UPDATE "${schema}".events SET transaction_id = (transaction_id::text::bigint + 1000000000000)::text::xid8`,
    );
    await expect(store.migrate()).rejects.toBeInstanceOf(
      TransactionIdsAheadError,
    );

    const rebased = await chronicle(['rebase', '--schema', schema]);
    expect(rebased).toMatchObject({ code: 0 });
    expect(rebased.stdout).toMatch(/Re-based 3 transactions/);
    await expect(store.migrate()).resolves.toEqual([]);

    const again = await chronicle(['rebase', '--schema', schema]);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toMatch(/Nothing to do/);
  });
});
