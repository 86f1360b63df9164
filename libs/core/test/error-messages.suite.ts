import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import {
  ChronicleModule,
  deriveMessageId,
  MessageGateway,
  MessageLogWriter,
  QueryBus,
  Scheduler,
  type HandlingFailed,
  type SqlClient,
  type SqlParameter,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Contended,
  Statement,
  ErrorHandlersModule,
  ErrorWitness,
  FailingWorkModule,
  Reminder,
} from './error-messages.fixture.js';
import { Deposit, LedgerModule, Withdraw } from './message-log.fixture.js';
import { waitUntil } from './wait-until.js';

interface LogRow {
  kind: string;
  id: string;
  type: string;
  payload: Record<string, unknown> | null;
  correlation_id: string | null;
  causation_id: string | null;
  app: string | null;
  instance: string | null;
  outcome: string;
  error: {
    name: string;
    code?: string;
    message: string;
    stack?: string;
  } | null;
  error_code: string | null;
}

/**
 * Errors as messages in one embedded app (in-process transport): failures of
 * commands, consumers and schedule deliveries reach its `@HandleError`
 * methods and the message log; schedule deliveries are logged.
 */
export function errorMessagesSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext;
  let schema: string;
  let client: SqlClient;
  let gateway: MessageGateway;
  let witness: ErrorWitness;
  let writer: MessageLogWriter;

  beforeEach(async () => {
    schema = freshSchema('er');
    client = database().client();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { client, schema },
          tracking: {
            instanceId: 'ledger-1',
            pollIntervalMs: 10,
            maxPollIntervalMs: 50,
          },
          scheduling: {
            pollInterval: 20,
            maxAttempts: 2,
            retryDelay: 1,
            maxRetryDelay: 1,
          },
        }),
        LedgerModule,
        FailingWorkModule,
        ErrorHandlersModule.of('ledger-1', true),
      ],
    }).compile();
    app = await moduleRef.init();
    gateway = app.get(MessageGateway);
    witness = app.get(ErrorWitness);
    writer = app.get(MessageLogWriter);
  });

  afterEach(async () => {
    await app.close();
  });

  async function rows(where: string, params: SqlParameter[] = []) {
    await writer.flush();
    return client.query<LogRow>(
      `SELECT kind, id, type, payload, correlation_id, causation_id, app, instance,
              outcome, error, error_code
         FROM "${schema}".message_log WHERE ${where} ORDER BY logged_at, id`,
      params,
    );
  }

  it("a failed command reaches the app's @HandleError method and the log, once, with what failed and where", async () => {
    await expect(
      gateway.send(new Withdraw('a-1'), {
        id: 'withdraw-1',
        metadata: { correlationId: 'conversation-1', user: 'u-7' },
      }),
    ).rejects.toThrow('would be overdrawn');
    await waitUntil(
      () => witness.of('withdraw').length === 1,
      'the error message to reach @HandleError(Withdraw)',
    );
    const [failed] = witness.of('withdraw');
    const id = deriveMessageId(
      'withdraw-1',
      'command:WithdrawHandler',
      'chronicle.Error',
      1,
    );
    expect({ ...failed }).toEqual({
      id,
      messageId: 'withdraw-1',
      messageType: 'ledger.Withdraw',
      messageKind: 'command',
      correlationId: 'conversation-1',
      handler: 'command:WithdrawHandler',
      app: 'ledger',
      instance: 'ledger-1',
      error: {
        name: 'Overdrawn',
        code: 'OVERDRAWN',
        message: 'Account a-1 would be overdrawn.',
      },
      outcome: 'rejected',
      attempt: 1,
      next: 'returned',
      failedAt: expect.any(String) as string,
    });
    expect(witness.seen.find((s) => s.failed === failed)?.causationId).toBe(
      'withdraw-1',
    );

    const errors = await rows(`kind = 'error'`);
    expect(errors).toEqual([
      expect.objectContaining({
        id,
        type: 'ledger.Withdraw',
        correlation_id: 'conversation-1',
        causation_id: 'withdraw-1',
        app: 'ledger',
        instance: 'ledger-1',
        outcome: 'rejected',
        error: {
          name: 'Overdrawn',
          code: 'OVERDRAWN',
          message: 'Account a-1 would be overdrawn.',
        },
        error_code: 'OVERDRAWN',
      }),
    ]);
    // It carries no payload of the failed command (the account is in the error's own text only).
    expect(errors[0].payload).not.toHaveProperty('account');
    // The command's own row is there too, with its outcome.
    const commands = await rows(`kind = 'command' AND id = 'withdraw-1'`);
    expect(commands).toEqual([
      expect.objectContaining({ outcome: 'rejected' }),
    ]);
  });

  it('a failed command sent again with the same id fails with the same error message id, so a reader can tell it is a repeat', async () => {
    for (let i = 0; i < 2; i++) {
      await expect(
        gateway.send(new Withdraw('a-2'), { id: 'withdraw-again' }),
      ).rejects.toThrow('would be overdrawn');
    }
    await waitUntil(
      () => witness.of('withdraw').length === 2,
      'both error messages to reach @HandleError(Withdraw)',
    );
    const [first, second] = witness.of('withdraw');
    expect(second.id).toBe(first.id);
    expect(first.id).toBe(
      deriveMessageId(
        'withdraw-again',
        'command:WithdrawHandler',
        'chronicle.Error',
        1,
      ),
    );
  });

  it('a command that loses every concurrency race says how many times it ran: its last attempt, and nothing after', async () => {
    const error = await gateway
      .send(new Contended('c-1'), { id: 'contended-1' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
    await waitUntil(
      () => witness.of('all').some((f) => f.messageId === 'contended-1'),
      'the error message of the contended command',
    );
    const failures = witness
      .of('all')
      .filter((f) => f.messageId === 'contended-1');
    // Default retries: 3, so the handler ran 4 times; one error message, for the last.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      messageType: 'ledger.Contended',
      attempt: 4,
      next: 'returned',
      id: deriveMessageId(
        'contended-1',
        'command:ContendedHandler',
        'chronicle.Error',
        4,
      ),
    });
    const errors = await rows(`kind = 'error' AND causation_id = $1`, [
      'contended-1',
    ]);
    expect(errors).toHaveLength(1);
  });

  it('a failed query is an error message too, and logged as kind error while queries are not logged', async () => {
    await expect(
      app.get(QueryBus).execute(new Statement('b-1')),
    ).rejects.toThrow('no statement for b-1');
    await waitUntil(
      () => witness.of('all').some((f) => f.messageKind === 'query'),
      'the error message of the query',
    );
    const failed = witness
      .of('all')
      .find((f) => f.messageKind === 'query') as HandlingFailed;
    expect(failed).toMatchObject({
      messageType: 'ledger.Statement',
      handler: 'query:StatementHandler',
      outcome: 'failed',
      attempt: 1,
      next: 'returned',
      error: { name: 'Error', message: 'no statement for b-1' },
    });
    expect(await rows(`kind = 'query'`)).toHaveLength(0);
    expect(
      await rows(`kind = 'error' AND causation_id = $1`, [failed.messageId]),
    ).toEqual([
      expect.objectContaining({ id: failed.id, type: 'ledger.Statement' }),
    ]);
  });

  it('a throwing error handler is logged and never becomes an error message itself', async () => {
    await expect(gateway.send(new Withdraw('a-2'))).rejects.toThrow();
    await waitUntil(
      () =>
        witness.of('explode').length === 1 && witness.of('all').length === 1,
      'the error message to reach both handlers',
    );
    // Another failure after it: had the broken handler been reported, its
    // error message would be here before this one's.
    await expect(gateway.send(new Withdraw('a-3'))).rejects.toThrow();
    await waitUntil(
      () => witness.of('all').length === 2,
      'the second error message',
    );
    expect(witness.of('all').map((f) => f.messageKind)).toEqual([
      'command',
      'command',
    ]);
    expect(await rows(`kind = 'error'`)).toHaveLength(2);
  });

  it('a consumer failing twice, then handling the event, says so in two error messages: attempts 1 and 2, next retry', async () => {
    await gateway.send(new Deposit('flaky-1', 5), {
      metadata: { correlationId: 'conversation-2' },
    });
    await waitUntil(
      () =>
        witness.of('all').filter((f) => f.messageKind === 'event').length >= 2,
      'two error messages of the consumer',
    );
    const [event] = await client.query<{ id: string }>(
      `SELECT id FROM "${schema}".events WHERE stream_id = 'account-flaky-1'`,
    );
    const failures = witness.of('all').filter((f) => f.messageKind === 'event');
    expect(
      failures.map((f) => ({
        messageId: f.messageId,
        messageType: f.messageType,
        handler: f.handler,
        correlationId: f.correlationId,
        attempt: f.attempt,
        next: f.next,
        error: f.error.message,
      })),
    ).toEqual(
      [1, 2].map((attempt) => ({
        messageId: event.id,
        messageType: 'ledger.Deposited',
        handler: 'consumer:error-retries:onDeposited',
        correlationId: 'conversation-2',
        attempt,
        next: 'retry',
        error: `try ${attempt} of flaky-1 fails`,
      })),
    );
    const logged = await rows(`kind = 'error' AND causation_id = $1`, [
      event.id,
    ]);
    expect(logged.map((r) => r.id).sort()).toEqual(
      failures.map((f) => f.id).sort(),
    );
    expect(new Set(logged.map((r) => r.id)).size).toBe(2);
  });

  it('a consumer that skips an event after its last try says dead-letter', async () => {
    await gateway.send(new Deposit('poison-1', 5));
    await waitUntil(
      () => witness.of('all').some((f) => f.handler.includes('error-skips')),
      'the error message of the skipping consumer',
    );
    const failed = witness
      .of('all')
      .find((f) => f.handler.includes('error-skips')) as HandlingFailed;
    expect(failed).toMatchObject({
      messageKind: 'event',
      messageType: 'ledger.Deposited',
      handler: 'consumer:error-skips:onDeposited',
      attempt: 1,
      next: 'dead-letter',
      error: { name: 'Error', message: 'poison-1 is poison' },
    });
  });

  it('a consumer that parks a stream after its last try says parked, not dead-letter: its event will still run', async () => {
    await gateway.send(new Deposit('jam-1', 5));
    await waitUntil(
      () => witness.of('all').some((f) => f.handler.includes('error-parks')),
      'the error message of the parking consumer',
    );
    expect(
      witness.of('all').find((f) => f.handler.includes('error-parks')),
    ).toMatchObject({
      messageKind: 'event',
      handler: 'consumer:error-parks:onDeposited',
      attempt: 1,
      next: 'parked',
      error: { message: 'jam-1 jams' },
    });
  });

  it('a consumer that stops its segment on an event says stopped', async () => {
    await gateway.send(new Deposit('halt-1', 5));
    await waitUntil(
      () => witness.of('all').some((f) => f.handler.includes('error-stops')),
      'the error message of the stopping consumer',
    );
    expect(
      witness.of('all').find((f) => f.handler.includes('error-stops')),
    ).toMatchObject({
      messageKind: 'event',
      handler: 'consumer:error-stops:onDeposited',
      attempt: 1,
      next: 'stopped',
      error: { message: 'halt-1 halts' },
    });
  });

  it('a failing schedule delivery is published and logged, each try with what comes next; each delivery has its row', async () => {
    const scheduleId = await app
      .get(Scheduler)
      .schedule(new Reminder('r-1'), { delay: 0 });
    await waitUntil(
      () =>
        witness.of('explode').filter((f) => f.messageKind === 'schedule')
          .length === 2,
      'both tries of the reminder to be reported',
    );
    const failures = witness
      .of('explode')
      .filter((f) => f.messageKind === 'schedule');
    expect(
      failures.map((f) => ({
        messageType: f.messageType,
        handler: f.handler,
        attempt: f.attempt,
        next: f.next,
        error: f.error.message,
      })),
    ).toEqual([
      {
        messageType: 'ledger.Reminder',
        handler: 'schedule:Reminders.remind',
        attempt: 1,
        next: 'retry',
        error: 'cannot remind r-1',
      },
      {
        messageType: 'ledger.Reminder',
        handler: 'schedule:Reminders.remind',
        attempt: 2,
        next: 'dead',
        error: 'cannot remind r-1',
      },
    ]);
    const deliveryId = failures[0].messageId;
    expect(failures[1].messageId).toBe(deliveryId);
    expect(scheduleId).toBeDefined();

    const deliveries = await rows(`kind = 'schedule' AND id = $1`, [
      deliveryId,
    ]);
    expect(deliveries).toEqual([
      expect.objectContaining({
        type: 'ledger.Reminder',
        outcome: 'failed',
        payload: { account: 'r-1' },
        app: 'ledger',
        instance: 'ledger-1',
        error: { name: 'Error', message: 'cannot remind r-1' },
      }),
      expect.objectContaining({ outcome: 'failed' }),
    ]);
    const errors = await rows(`kind = 'error' AND causation_id = $1`, [
      deliveryId,
    ]);
    expect(errors.map((r) => r.id).sort()).toEqual(
      failures.map((f) => f.id).sort(),
    );
  });

  it('a delivered schedule is logged with outcome ok, and a command it sends is also logged as that command', async () => {
    await app
      .get(Scheduler)
      .schedule(new Deposit('s-1', 3), { delay: 0 }, { id: 'deposit-later' });
    await waitUntil(async () => {
      const found = await rows(`kind = 'schedule' AND type = 'ledger.Deposit'`);
      return found.length === 1;
    }, 'the delivery to be logged');
    const [delivery] = await rows(
      `kind = 'schedule' AND type = 'ledger.Deposit'`,
    );
    expect(delivery).toMatchObject({ outcome: 'ok', error: null });
    const commands = await rows(`kind = 'command' AND id = $1`, [delivery.id]);
    expect(commands).toEqual([
      expect.objectContaining({ type: 'ledger.Deposit', outcome: 'ok' }),
    ]);
  });
}
