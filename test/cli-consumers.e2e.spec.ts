import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  Consumer,
  EventStore,
  HandleEvent,
  PgSqlClient,
  type ConsumerOverview,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import {
  Deposited,
  deposited,
  FAST_TRACKING,
  trackingApp,
  waitFor,
} from '../libs/core/test/tracking.fixture.js';

const CLI = fileURLToPath(
  new URL('../libs/core/dist/cli/main.js', import.meta.url),
);

async function chronicle(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [CLI, 'consumers', ...args],
      { env: { ...process.env, DATABASE_URL }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

@Consumer('cli-ledger', { segments: 2 })
class Ledger {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('cli-strict', { maxAttempts: 1 })
class Strict {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.amount < 0) throw new Error(`negative amount ${event.amount}`);
  }
}

@Consumer('cli-lenient', { maxAttempts: 1, onError: 'skip' })
class Lenient {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.amount < 0) throw new Error(`negative amount ${event.amount}`);
  }
}

@Consumer('cli-parking', { maxAttempts: 1, onError: 'park' })
class Parking {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.amount < 0) throw new Error(`negative amount ${event.amount}`);
  }
}

/** `npx chronicle consumers` against a store an app has been running consumers on. */
describe('chronicle consumers, on built code', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('cli_cons');
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    app = await trackingApp(
      PgSqlClient.fromPool(pool),
      schema,
      [Ledger, Strict, Lenient, Parking],
      { ...FAST_TRACKING, instanceId: 'cli-instance' },
    );
    const store = app.get(EventStore);
    await store.append('acct-1', [deposited('acct-1', 5)]);
    await store.append('acct-2', [deposited('acct-2', -1)]);
    await store.append('acct-3', [deposited('acct-3', 3)]);
    // Parked behind acct-2's poison event: a second event of its stream.
    await store.append('acct-2', [deposited('acct-2', 7)]);
    const position = async (consumer: string) =>
      (
        await pool.query<{ stopped: boolean; n: string }>(
          `SELECT bool_or(stopped) AS stopped, min(position)::text AS n FROM "${schema}".consumer_positions WHERE consumer = $1`,
          [consumer],
        )
      ).rows[0];
    const head = (
      await pool.query<{ n: string }>(
        `SELECT max(position)::text AS n FROM "${schema}".events`,
      )
    ).rows[0].n;
    await waitFor(async () => {
      const [ledger, strict, lenient, parking] = await Promise.all(
        ['cli-ledger', 'cli-strict', 'cli-lenient', 'cli-parking'].map(
          position,
        ),
      );
      return (
        strict.stopped &&
        lenient.n === head &&
        parking.n === head &&
        // Each ledger segment past the last event of its own streams: lag 0 below.
        ledger.n !== '0'
      );
    }, 'the strict consumer stopped and the lenient one done');
    await waitFor(async () => {
      const { stdout } = await chronicle(['--schema', schema, '--json']);
      const { consumers } = JSON.parse(stdout) as {
        consumers: ConsumerOverview[];
      };
      const ledger = consumers.find((c) => c.consumer === 'cli-ledger');
      return ledger?.segments.every((s) => s.lagEvents === 0) ?? false;
    }, 'the ledger caught up');
  });

  afterAll(async () => {
    await app?.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('prints a table: a line per segment with owner, position, lag, status, dead letters and parked streams, then what is stopped', async () => {
    const { code, stdout } = await chronicle(['--schema', schema]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual([
      'consumer',
      'segment',
      'owner',
      'position',
      'lag',
      'lag s',
      'status',
      'dead letters',
      'parked',
    ]);
    const row = (start: string) =>
      lines.find((l) => l.startsWith(start))?.split(/\s+/);
    // consumer, segment, owner, position, lag, lag s, status, dead letters, parked
    expect(row('cli-lenient')).toEqual([
      'cli-lenient',
      '0',
      'cli-instance',
      expect.stringMatching(/^\d+$/),
      '0',
      '0.0',
      'running',
      '1',
      '0',
    ]);
    // One stream parked, holding its poison event and the one after it.
    expect(row('cli-parking')?.slice(6)).toEqual(['running', '0', '1']);
    const strict = row('cli-strict');
    expect(strict?.[0]).toBe('cli-strict');
    expect(strict?.[4]).toBe('3'); // the poison event and the two after it
    expect(strict?.[6]).toBe('stopped');
    expect(strict?.[7]).toBe('0');
    expect(row('cli-ledger')?.slice(0, 3)).toEqual([
      'cli-ledger',
      '0',
      'cli-instance',
    ]);
    // The ledger's second segment: its own line, under the first.
    expect(lines.filter((l) => /^\s+1\s+cli-instance\s/.test(l))).toHaveLength(
      1,
    );
    expect(stdout).toMatch(
      /^cli-strict segment 0 is stopped: .*negative amount -1$/m,
    );
  });

  it('--json gives the same, per consumer', async () => {
    const { code, stdout } = await chronicle(['--schema', schema, '--json']);
    expect(code).toBe(0);
    const { consumers, rebuilds } = JSON.parse(stdout) as {
      consumers: ConsumerOverview[];
      rebuilds: unknown[];
    };
    expect(rebuilds).toEqual([]);
    expect(consumers.map((c) => c.consumer)).toEqual([
      'cli-ledger',
      'cli-lenient',
      'cli-parking',
      'cli-strict',
    ]);
    expect(consumers.find((c) => c.consumer === 'cli-parking')).toMatchObject({
      deadLetters: 0,
      parkedStreams: 1,
      parkedEvents: 2,
    });
    const strict = consumers.find((c) => c.consumer === 'cli-strict');
    expect(strict).toMatchObject({
      version: null,
      deadLetters: 0,
      parkedStreams: 0,
      parkedEvents: 0,
      replayPending: false,
      segments: [
        {
          segment: 0,
          owner: 'cli-instance',
          status: 'stopped',
          lagEvents: 3,
          lastError: expect.stringContaining('negative amount -1'),
        },
      ],
    });
  });

  it('a schema without Chronicle in it is named as the mistake; a stray argument is a usage error', async () => {
    const missing = await chronicle(['--schema', `${schema}_none`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `Schema "${schema}_none" has no Chronicle tables`,
    );
    const stray = await chronicle(['--schema', schema, 'extra']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('Unexpected argument "extra"');
  });
});
