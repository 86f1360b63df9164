import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import {
  ChronicleModule,
  Command,
  CommandBus,
  CommandType,
  PgSqlClient,
  PostgresEventStore,
  newMessageId,
} from '@chronicle/core';
import { freshNamespace, NATS_URL } from '../../../libs/core/test/nats.js';
import { AppProcess, fixture } from './support/app-process.js';
import { poll, report, sleep, tally } from './support/fault-report.js';
import { PostgresServer } from './support/postgres-server.js';

// Scenarios f and g of the fault suite (docs/guides/faults-postgres.md): the
// test's own PostgreSQL is restarted (pg_ctl restart -m fast), stopped
// immediately and started, and its postmaster killed with SIGKILL, while apps
// work on it. Nothing acknowledged may be lost or stored twice, and no app may
// die of it (issue 12, point 15).

@CommandType('faults.Deposit')
class Deposit extends Command<number> {
  constructor(
    readonly account: string,
    readonly ref: string,
  ) {
    super();
  }
}

/**
 * A load running in the background until `stop()`: `writers` loops of
 * `operation`, each retrying its piece of work until it is acknowledged.
 */
class Load {
  readonly errors: string[] = [];
  private stopping = false;
  private aborted = false;
  private readonly done: Promise<void>;

  constructor(writers: number, operation: (writer: number) => Promise<void>) {
    // Started on the next turn, so `operation` can use this load.
    this.done = sleep(0).then(() => this.run(writers, operation));
  }

  private async run(
    writers: number,
    operation: (writer: number) => Promise<void>,
  ): Promise<void> {
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        while (!this.stopping) {
          await operation(writer);
          await sleep(10); // a steady load, not a flood, on a 2-core box
        }
      }),
    );
  }

  /** Tries `work` until it succeeds (false: gave up), pausing after each failure. */
  async untilAcknowledged(work: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; attempt <= 60 && !this.aborted; attempt++) {
      try {
        await work();
        return true;
      } catch (error) {
        this.errors.push(
          `${(error as Error).name}: ${(error as Error).message}`,
        );
        await sleep(250);
      }
    }
    return false;
  }

  /** Lets every writer finish the work in hand; `abort` gives up on it (a failed test). */
  stop(abort = false): Promise<void> {
    this.stopping = true;
    this.aborted ||= abort;
    return this.done;
  }
}

/** The distinct errors, most frequent first: `3x TimeoutError: ...`. */
function summary(errors: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const error of errors) {
    const key = error.slice(0, 120);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4);
  return top.map(([e, n]) => `${n}x ${e}`).join('; ') || 'none';
}

function isSameEventAgain(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'events_id_key';
}

describe('fault suite: PostgreSQL restarted under load', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    server = await PostgresServer.start();
    pool = server.pool();
  }, 60_000);

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop('SIGKILL')));
  });

  afterAll(async () => {
    await pool?.end();
    await server?.destroy();
  });

  function start(name: string, script: string, env: Record<string, string>) {
    const app = AppProcess.start(name, fixture(script), {
      DATABASE_URL: server.url,
      ...env,
    });
    apps.push(app);
    return app;
  }

  /**
   * The three ways the server goes away, each once `progress()` has moved on
   * since the last: a fast restart (connections terminated, back at once), an
   * immediate stop (no shutdown checkpoint) and start after a pause, and the
   * postmaster killed with SIGKILL (crash recovery on start).
   */
  async function restartThreeWays(progress: () => number): Promise<void> {
    const movedOn = async () => {
      const from = progress();
      await poll(() => progress() >= from + 50, 'the load to move on', 60_000);
    };
    await movedOn();
    await server.restart();
    await movedOn();
    await server.stop('immediate');
    await sleep(1_000);
    await server.start();
    await movedOn();
    await server.kill();
    await sleep(500);
    await server.start();
    await movedOn();
  }

  /** The `ref` of every stored event in `schema`, repeats included. */
  async function storedRefs(schema: string): Promise<string[]> {
    const { rows } = await pool.query<{ ref: string }>(
      `SELECT payload->>'ref' AS ref FROM "${schema}".events`,
    );
    return rows.map((r) => r.ref);
  }

  it('f. commands over NATS to two handler processes while PostgreSQL restarts: every acknowledged command stored once, retries with the same id absorbed, no process dies', async () => {
    const namespace = freshNamespace();
    const schema = 'faults_accounts';
    const handlers = ['accounts-1', 'accounts-2'].map((name) =>
      start(name, 'account-app', {
        SCHEMA: schema,
        NATS_URL,
        NAMESPACE: namespace,
      }),
    );
    await Promise.all(handlers.map((h) => h.ready()));

    // The sending side, in this process: no handler, consumer or scheduler of
    // its own, so its store is only touched at start.
    @Module({})
    class CallerModule {}
    const caller: INestApplicationContext = await (
      await Test.createTestingModule({
        imports: [
          ChronicleModule.forRoot({
            app: 'faults-caller',
            database: { url: server.url, schema: 'faults_caller' },
            transport: { nats: NATS_URL, namespace, timeoutMs: 3_000 },
            scheduling: { enabled: false },
            tracking: { enabled: false },
          }),
          CallerModule,
        ],
      }).compile()
    ).init();
    try {
      const commands = caller.get(CommandBus);
      const acknowledged: string[] = [];
      let attempted = 0;
      let neverAcknowledged = 0;
      let retried = 0;
      const load = new Load(10, async (writer) => {
        // One account per writer: conflicts are not what this run is about.
        const command = new Deposit(`acct-${writer}`, newMessageId());
        attempted++;
        const before = load.errors.length;
        // Sending the same instance again sends the same id: a command that
        // was handled before its reply was lost must not run twice.
        if (await load.untilAcknowledged(() => commands.execute(command))) {
          acknowledged.push(command.ref);
          if (load.errors.length > before) retried++;
        } else neverAcknowledged++;
      });
      await restartThreeWays(() => acknowledged.length).catch(async (error) => {
        await load.stop(true);
        throw error;
      });
      await load.stop();
      const { errors } = load;

      const exits = handlers.filter((h) => !h.running);
      process.stdout.write(
        `[fault] f. ${retried} commands acknowledged after a retry; errors seen: ${summary(errors)}\n`,
      );
      report(
        'f. PostgreSQL restarted under command load',
        tally(attempted, acknowledged, await storedRefs(schema)),
        {
          'never acknowledged': neverAcknowledged,
          'handler exits': exits.length,
        },
        exits[0] &&
          `${exits[0].name} exited: ${exits[0].errors().slice(-2_000)}`,
      );
    } finally {
      await caller.close();
    }
  }, 150_000);

  it('g. an app with a consumer while PostgreSQL restarts: it stays up, and projects every event exactly once', async () => {
    const schema = 'faults_projection';
    const store = new PostgresEventStore(PgSqlClient.fromPool(pool), schema);
    await store.migrate();
    await pool.query(
      `CREATE TABLE "${schema}".ledger (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version int NOT NULL, instance text NOT NULL)`,
    );
    const app = start('ledger', 'ledger-app', {
      SCHEMA: schema,
      INSTANCE: 'ledger',
      // Each event takes a moment, so the consumer is always mid-batch, its
      // transaction open, when the server goes away: the case that killed apps.
      DELAY_MS: '20',
    });
    await app.ready();

    const acknowledged: string[] = [];
    let attempted = 0;
    const load = new Load(4, async (writer) => {
      const id = newMessageId();
      const streamId = `acct-${writer}`;
      attempted++;
      const event = {
        id,
        type: 'faults.Deposited',
        revision: 1,
        payload: { account: streamId, ref: id },
        metadata: { correlationId: id },
        timestamp: new Date(),
      };
      // A retry of an append whose reply was lost meets its own event id.
      const append = () =>
        store.append(streamId, [event]).catch((error: unknown) => {
          if (!isSameEventAgain(error)) throw error;
        });
      if (await load.untilAcknowledged(append)) acknowledged.push(id);
    });
    await restartThreeWays(() => acknowledged.length).catch(async (error) => {
      await load.stop(true);
      throw error;
    });
    await load.stop();

    const stored = await storedRefs(schema);
    report(
      'g. appends while PostgreSQL restarts',
      tally(attempted, acknowledged, stored),
    );
    const ledger = async () =>
      (
        await pool.query<{ event_id: string }>(
          `SELECT event_id FROM "${schema}".ledger`,
        )
      ).rows.map((r) => r.event_id);
    // Report even when it never catches up: the figures and the app's own
    // log say more than a timeout.
    const caughtUp = await poll(
      async () => !app.running || (await ledger()).length >= stored.length,
      'the consumer to project every stored event',
      45_000,
    ).then(
      () => true,
      () => false,
    );
    if (caughtUp) await sleep(1_000); // a batch projected twice would land now
    const figures = tally(stored.length, stored, await ledger());
    report(
      'g. projection by a consumer app while PostgreSQL restarts',
      figures,
      { 'app exits': app.running ? 0 : 1 },
      app.running && figures.lost === 0
        ? undefined
        : `${app.running ? 'still running' : 'exited'}; its stderr: ${app.errors().slice(-2_000)}`,
    );
  }, 150_000);
});
