import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import {
  ChronicleModule,
  CommandBus,
  MessageGateway,
  MessageLogWriter,
  type MessageLogOptions,
  type SqlClient,
  type SqlParameter,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposit,
  DepositThenFail,
  Flaky,
  Holder,
  LedgerModule,
  Overdrawn,
  Ping,
  Withdraw,
} from './message-log.fixture.js';

interface LogRow {
  kind: string;
  id: string;
  type: string;
  payload: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  correlation_id: string | null;
  app: string | null;
  instance: string | null;
  outcome: string;
  result: { value: unknown } | null;
  error: { name: string; code?: string; message: string } | null;
  error_code: string | null;
  streams: string[] | null;
  positions: string[] | null;
  duration_ms: number;
}

/**
 * The message log's write path: what a handling leaves in `message_log`, on
 * either driver. Rows of commands that appended go in with their events;
 * the rest are written behind (flushed here before reading).
 */
export function messageLogSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext | undefined;
  let schema: string;
  let client: SqlClient;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(
    messageLog: MessageLogOptions | boolean = {},
    registry?: Registry,
    deduplicate = true,
  ) {
    schema = freshSchema('ml');
    client = database().client();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { client, schema },
          messageLog,
          ...(registry && { metrics: { registry, path: false } }),
          tracking: { instanceId: 'ledger-1' },
          commands: { deduplicate },
        }),
        LedgerModule,
      ],
    }).compile();
    app = await moduleRef.init();
    return {
      commands: app.get(CommandBus),
      gateway: app.get(MessageGateway),
      writer: app.get(MessageLogWriter),
    };
  }

  async function rows(where = 'true', params: SqlParameter[] = []) {
    return client.query<LogRow>(
      `SELECT kind, id, type, payload, metadata, correlation_id, app, instance, outcome,
              result, error, error_code, streams, positions::text[] AS positions, duration_ms
         FROM "${schema}".message_log WHERE ${where} ORDER BY logged_at, id`,
      params,
    );
  }

  it('logs a command that appended with its events: result, streams and the positions they got', async () => {
    const { gateway } = await start();
    const result = await gateway.send(new Deposit('a-1', 5), {
      id: 'deposit-1',
      metadata: { correlationId: 'conversation-1', user: 'u-7' },
    });
    expect(result).toEqual({ account: 'a-1' });
    // Read without a flush: the row committed with the events.
    const [row] = await rows();
    const events = await client.query<{ position: string }>(
      `SELECT position::text FROM "${schema}".events WHERE stream_id = 'account-a-1'`,
    );
    expect(row).toMatchObject({
      kind: 'command',
      id: 'deposit-1',
      type: 'ledger.Deposit',
      correlation_id: 'conversation-1',
      app: 'ledger',
      instance: 'ledger-1',
      outcome: 'ok',
      result: { value: { account: 'a-1' } },
      error: null,
      streams: ['account-a-1'],
      positions: events.map((e) => e.position),
    });
    expect(row.metadata.user).toBe('u-7');
    expect(row.payload).toMatchObject({ account: 'a-1', amount: 5 });
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('logs a command that appended nothing with its record, or behind without one', async () => {
    const { commands } = await start();
    await expect(commands.execute(new Ping('hi'))).resolves.toBe('pong hi');
    // With its idempotency record: in that statement, readable at once.
    const logged = await rows();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      type: 'ledger.Ping',
      outcome: 'ok',
      result: { value: 'pong hi' },
      streams: null,
      positions: null,
    });
    await app!.close();
    // Without one (deduplicate off), nothing is written with it: the row waits in the buffer.
    const later = await start(
      { buffer: { flushIntervalMs: 60_000 } },
      undefined,
      false,
    );
    await later.commands.execute(new Ping('no record'));
    expect(await rows()).toHaveLength(0);
    expect(later.writer.pending).toBe(1);
    await later.writer.flush();
    expect((await rows()).map((r) => r.result)).toEqual([
      { value: 'pong no record' },
    ]);
  });

  it('logs a declared error as rejected, with its class, code and message', async () => {
    const { gateway, writer } = await start();
    await expect(
      gateway.send(new Withdraw('a-2'), { id: 'withdraw-1' }),
    ).rejects.toBeInstanceOf(Overdrawn);
    await writer.flush();
    const [row] = await rows();
    expect(row).toMatchObject({
      id: 'withdraw-1',
      outcome: 'rejected',
      error_code: 'OVERDRAWN',
      error: {
        name: 'Overdrawn',
        code: 'OVERDRAWN',
        message: 'Account a-2 would be overdrawn.',
      },
      result: null,
    });
    expect(row.error).not.toHaveProperty('stack');
  });

  it('never logs as done a command whose events were rolled back', async () => {
    const { gateway, writer } = await start();
    await expect(
      gateway.send(new DepositThenFail('a-3'), { id: 'then-fail-1' }),
    ).rejects.toThrow();
    await writer.flush();
    // (Its error message has a row of its own, kind `error`.)
    const logged = await rows(`kind = 'command'`);
    expect(logged.map((r) => [r.id, r.outcome])).toEqual([
      ['then-fail-1', 'failed'],
    ]);
    expect(logged[0].positions).toBeNull();
    const events = await client.query(
      `SELECT 1 FROM "${schema}".events WHERE stream_id = 'account-a-3'`,
    );
    expect(events).toHaveLength(0);
  });

  it('logs a command retried after conflicts once, with its final outcome', async () => {
    const { gateway, writer } = await start();
    await expect(
      gateway.send(new Flaky('a-4'), { id: 'flaky-1' }),
    ).resolves.toBe(3);
    await writer.flush();
    const logged = await rows();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      id: 'flaky-1',
      outcome: 'ok',
      result: { value: 3 },
      streams: ['flaky-a-4'],
    });
    expect(logged[0].positions).toHaveLength(1);
  });

  it('masks fields marked @PersonalData or @Secret, nested ones too, and never stores them', async () => {
    const { commands, writer } = await start();
    await commands.execute(
      new Deposit('a-5', 7, {
        email: 'ann@example.com',
        pin: '4321',
        holder: new Holder('Ann Example', 'NL'),
      }),
    );
    await expect(commands.execute(new Withdraw('a-5'))).rejects.toThrow();
    await writer.flush();
    const [row] = await rows(`type = 'ledger.Deposit'`);
    expect(row.payload).toEqual({
      account: 'a-5',
      amount: 7,
      email: '***',
      pin: '***',
      holder: { name: '***', country: 'NL' },
    });
    const text = await client.query<{ text: string }>(
      `SELECT string_agg(m::text, ' ') AS text FROM "${schema}".message_log m`,
    );
    for (const secret of ['ann@example.com', '4321', 'Ann Example']) {
      expect(text[0].text).not.toContain(secret);
    }
  });

  it('logs nothing with messageLog: false', async () => {
    const { commands, writer } = await start(false);
    await commands.execute(new Deposit('a-6', 1));
    await commands.execute(new Ping('x'));
    await writer.flush();
    expect(await rows()).toHaveLength(0);
  });

  it('never blocks a handler when the write-behind buffer is full: the overflow is dropped and counted', async () => {
    const registry = new Registry();
    const { commands, writer } = await start(
      { buffer: { size: 3, flushIntervalMs: 60_000, batchSize: 100 } },
      registry,
    );
    // Ten failures while nothing is written: each answers at once, three
    // rows are kept (each failure has two: the command's, then its error's).
    for (let i = 0; i < 10; i++) {
      await expect(
        commands.execute(new Withdraw(`p${i}`)),
      ).rejects.toBeInstanceOf(Overdrawn);
    }
    expect(writer.pending).toBe(3);
    const dropped = await registry
      .getSingleMetric('chronicle_message_log_dropped_total')!
      .get();
    expect(dropped.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          value: 8,
          labels: { kind: 'command', reason: 'overflow' },
        }),
        expect.objectContaining({
          value: 9,
          labels: { kind: 'error', reason: 'overflow' },
        }),
      ]),
    );
    expect(dropped.values).toHaveLength(2);
    await writer.flush();
    expect(
      (await rows(`kind = 'command'`)).map((r) => r.payload?.account),
    ).toEqual(['p0', 'p1']);
    expect(await rows(`kind = 'error'`)).toHaveLength(1);
  });
}
