import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  EventStore,
  PgSqlClient,
  type PostgresEventStore,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import {
  parking,
  ParkingConsumer,
} from '../libs/core/test/parked-streams.suite.js';
import { deposited, trackingApp } from '../libs/core/test/tracking.fixture.js';
import { waitUntil } from '../libs/core/test/wait-until.js';

const execute = promisify(execFile);
const bin = fileURLToPath(
  new URL('../libs/core/bin/chronicle.js', import.meta.url),
);

/** Runs the built `chronicle` bin as a user would, in a process of its own. */
async function chronicle(...args: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      env: { ...process.env, DATABASE_URL },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('chronicle dead-letters, on the built bin', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const client = PgSqlClient.fromPool(pool);
  const schema = freshSchema('clidead');
  let app: INestApplicationContext;
  let store: PostgresEventStore;

  const applied = async (stream: string) =>
    (
      await pool.query<{ amount: number }>(
        `SELECT amount FROM ${parking.table} WHERE stream = $1 ORDER BY id`,
        [stream],
      )
    ).rows.map((r) => r.amount);
  const parkedCount = async (stream: string) =>
    (
      await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".parked_events WHERE stream_id = $1`,
        [stream],
      )
    ).rows[0].n;

  beforeAll(async () => {
    parking.table = `"${schema}".applied`;
    parking.refused = new Set([-1]);
    app = await trackingApp(client, schema, [ParkingConsumer]);
    store = app.get(EventStore) as PostgresEventStore;
    await pool.query(
      `CREATE TABLE ${parking.table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         stream text NOT NULL, version int NOT NULL, amount int NOT NULL, UNIQUE (stream, version))`,
    );
    // Two parked streams: a at its second event, c at its first.
    await store.append('a', [deposited('a', 1), deposited('a', -1)]);
    await store.append('c', [deposited('c', -1), deposited('c', 7)]);
    await store.append('a', [deposited('a', 2)]);
    await store.append('b', [deposited('b', 10)]);
    await waitUntil(
      async () =>
        (await applied('b')).length === 1 &&
        (await parkedCount('a')) === 2 &&
        (await parkedCount('c')) === 2,
      'a and c parked, b applied',
    );
  });

  afterAll(async () => {
    await app?.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('lists the parked streams with their first event, count and error', async () => {
    const listed = await chronicle(
      'dead-letters',
      'list',
      'parking',
      '--schema',
      schema,
    );
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).toContain('Parked streams of "parking": 2');
    expect(listed.stdout).toMatch(
      /a: 2 events waiting from tracking\.Deposited v2 .*2 attempts/,
    );
    expect(listed.stdout).toMatch(
      /c: 2 events waiting from tracking\.Deposited v1/,
    );
    expect(listed.stdout).toContain('refused amount -1');

    const json = await chronicle(
      'dead-letters',
      'list',
      'parking',
      '--stream',
      'a',
      '--json',
      '--schema',
      schema,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      consumer: 'parking',
      parked: [{ stream: 'a', events: 2, attempts: 2 }],
      skipped: [],
    });
  });

  it('retry, from another process: fails again while the handler refuses, applies in order once fixed', async () => {
    const again = await chronicle(
      'dead-letters',
      'retry',
      'parking',
      '--stream',
      'a',
      '--schema',
      schema,
    );
    expect(again).toMatchObject({ code: 1 });
    expect(again.stdout).toMatch(
      /a: failed again after applying 0; 2 stay parked \(attempts 3\): refused amount -1/,
    );

    parking.refused.clear();
    const fixed = await chronicle(
      'dead-letters',
      'retry',
      'parking',
      '--stream',
      'a',
      '--schema',
      schema,
    );
    expect(fixed).toMatchObject({ code: 0 });
    expect(fixed.stdout).toContain('a: applied 2 parked events');
    expect(await applied('a')).toEqual([1, -1, 2]);
  });

  it('drop deletes a stream’s parked events and says who and when; bad input is a usage error', async () => {
    const dropped = await chronicle(
      'dead-letters',
      'drop',
      'parking',
      '--stream',
      'c',
      '--schema',
      schema,
    );
    expect(dropped).toMatchObject({ code: 0 });
    expect(dropped.stdout).toMatch(
      /Dropped 2 parked events of stream c \(consumer "parking", by .+ \(chronicle dead-letters\), at \d{4}-/,
    );
    expect(await parkedCount('c')).toBe(0);
    expect(await applied('c')).toEqual([]);

    const none = await chronicle(
      'dead-letters',
      'drop',
      'parking',
      '--stream',
      'c',
      '--schema',
      schema,
    );
    expect(none).toMatchObject({ code: 1 });
    expect(none.stderr).toContain(
      'Stream "c" is not parked for consumer "parking"',
    );

    const unknown = await chronicle(
      'dead-letters',
      'list',
      'nobody',
      '--schema',
      schema,
    );
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain('No @Consumer named "nobody"');

    const usage = await chronicle('dead-letters', 'purge', 'parking');
    expect(usage).toMatchObject({ code: 2 });
    expect(usage.stderr).toContain('Unknown action "purge"');
  });
});
