import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import {
  ChronicleModule,
  MessageGateway,
  MessageLog,
  MessageLogSearchError,
  MessageLogWriter,
  type LoggedMessage,
  type MessageLogFilter,
  type MessageLogPage,
  type SqlClient,
  type TraceNode,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { Deposit, LedgerModule } from './message-log.fixture.js';
import { mirrored, MirrorModule } from './message-log-trace.fixture.js';
import { FAST_TRACKING } from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

const T0 = Date.parse('2026-11-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

interface Seed {
  id: string;
  kind?: string;
  type: string;
  app: string;
  minute: number;
  outcome?: string;
  correlation?: string;
  causation?: string;
  payload?: Record<string, unknown>;
  streams?: string[];
}

/** A small log with one row for each thing a filter tells apart. */
const SEEDS: Seed[] = [
  {
    id: 'r1',
    type: 'orders.PlaceOrder',
    app: 'orders',
    minute: 1,
    correlation: 'c1',
    payload: { customerId: 'c-1', total: 5 },
    streams: ['orders.Order-o-1'],
  },
  {
    id: 'r2',
    type: 'orders.PlaceOrder',
    app: 'orders',
    minute: 2,
    outcome: 'rejected',
    correlation: 'c2',
    payload: { customerId: 'c-2' },
  },
  {
    id: 'r3',
    type: 'billing.Charge',
    app: 'billing',
    minute: 3,
    outcome: 'failed',
    correlation: 'c1',
    payload: { customerId: 'c-1' },
  },
  {
    id: 'r4',
    kind: 'schedule',
    type: 'orders.Remind',
    app: 'orders',
    minute: 4,
    correlation: 'c3',
    payload: { customerId: 'c-1', address: { city: 'Ghent' } },
  },
  {
    id: 'r5',
    kind: 'error',
    type: 'orders.PlaceOrder',
    app: 'orders',
    minute: 5,
    outcome: 'failed',
    correlation: 'c2',
    causation: 'r2',
  },
  {
    id: 'r6',
    kind: 'query',
    type: 'orders.GetOrder',
    app: 'orders',
    minute: 6,
    payload: { orderId: 'o-1' },
  },
  {
    id: 'r7',
    type: 'billing.Charge',
    app: 'billing',
    minute: 7,
    correlation: 'c1',
    payload: { customerId: 'c-3' },
    streams: ['billing.Invoice-i-1', 'orders.Order-o-1'],
  },
];

/**
 * Reading the message log: every search filter, keyset paging that neither
 * repeats nor misses a row while rows arrive, and the correlation tree of a
 * conversation made by real handlers and a consumer.
 */
export function messageLogSearchSuite(database: () => TestDatabase): void {
  let app: INestApplicationContext | undefined;
  let schema: string;
  let client: SqlClient;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(withConsumer = false) {
    schema = freshSchema('mls');
    client = database().client();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { client, schema },
          tracking: { ...FAST_TRACKING, instanceId: 'ledger-1' },
        }),
        withConsumer ? MirrorModule : LedgerModule,
      ],
    }).compile();
    app = await moduleRef.init();
    return {
      log: app.get(MessageLog),
      gateway: app.get(MessageGateway),
      writer: app.get(MessageLogWriter),
    };
  }

  async function seed(rows: readonly Seed[]) {
    await client.query(
      `INSERT INTO "${schema}".message_log
         (kind, logged_at, id, type, payload, metadata, correlation_id, causation_id, app, outcome, streams)
       SELECT r.kind, r.logged_at, r.id, r.type, r.payload, '{}', r.correlation_id, r.causation_id,
              r.app, r.outcome, r.streams
       FROM jsonb_to_recordset($1::text::jsonb) AS r(kind text, logged_at timestamptz, id text,
         type text, payload jsonb, correlation_id text, causation_id text, app text, outcome text,
         streams text[])`,
      [
        JSON.stringify(
          rows.map((r) => ({
            kind: r.kind ?? 'command',
            logged_at: at(r.minute).toISOString(),
            id: r.id,
            type: r.type,
            payload: r.payload ?? null,
            correlation_id: r.correlation ?? null,
            causation_id: r.causation ?? null,
            app: r.app,
            outcome: r.outcome ?? 'ok',
            streams: r.streams ?? null,
          })),
        ),
      ],
    );
  }

  const ids = (rows: readonly LoggedMessage[]) => rows.map((r) => r.id);

  describe('search', () => {
    let log: MessageLog;
    beforeEach(async () => {
      ({ log } = await start());
      await seed(SEEDS);
    });

    const cases: [string, MessageLogFilter, string[]][] = [
      [
        'nothing: everything, newest first',
        {},
        ['r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1'],
      ],
      ['kind', { kind: 'schedule' }, ['r4']],
      ['kinds', { kind: ['error', 'query'] }, ['r6', 'r5']],
      ['type', { type: 'orders.PlaceOrder' }, ['r5', 'r2', 'r1']],
      [
        'types',
        { type: ['billing.Charge', 'orders.Remind'] },
        ['r7', 'r4', 'r3'],
      ],
      ['app', { app: 'billing' }, ['r7', 'r3']],
      ['outcome', { outcome: 'rejected' }, ['r2']],
      ['failed: true', { failed: true }, ['r5', 'r3', 'r2']],
      ['failed: false', { failed: false }, ['r7', 'r6', 'r4', 'r1']],
      [
        'failed, of one type',
        { failed: true, type: 'orders.PlaceOrder' },
        ['r5', 'r2'],
      ],
      ['since (inclusive)', { since: at(5) }, ['r7', 'r6', 'r5']],
      ['until (exclusive)', { until: at(2) }, ['r1']],
      ['a time range', { since: at(2), until: at(4) }, ['r3', 'r2']],
      ['correlation id', { correlationId: 'c1' }, ['r7', 'r3', 'r1']],
      ['stream', { stream: 'orders.Order-o-1' }, ['r7', 'r1']],
      ['payload field', { where: { customerId: 'c-1' } }, ['r4', 'r3', 'r1']],
      [
        'nested payload field',
        { where: { address: { city: 'Ghent' } } },
        ['r4'],
      ],
      [
        'payload field and app',
        { where: { customerId: 'c-1' }, app: 'orders' },
        ['r4', 'r1'],
      ],
      ['nothing matches', { type: 'orders.PlaceOrder', app: 'billing' }, []],
    ];
    it.each(cases)('by %s', async (_, filter, expected) => {
      const page = await log.search(filter);
      expect(ids(page.rows)).toEqual(expected);
      expect(page.next).toBeUndefined();
    });

    it('gives each row as plain JSON', async () => {
      const { rows } = await log.search({ stream: 'billing.Invoice-i-1' });
      expect(rows).toEqual([
        {
          kind: 'command',
          id: 'r7',
          type: 'billing.Charge',
          revision: null,
          payload: { customerId: 'c-3' },
          metadata: {},
          correlationId: 'c1',
          causationId: null,
          app: 'billing',
          instance: null,
          senderApp: null,
          loggedAt: at(7).toISOString(),
          finishedAt: null,
          durationMs: null,
          outcome: 'ok',
          error: null,
          streams: ['billing.Invoice-i-1', 'orders.Order-o-1'],
          positions: [],
        },
      ]);
      expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
    });

    it('pages with a cursor: limit rows, then the rest', async () => {
      const first = await log.search({}, { limit: 3 });
      expect(ids(first.rows)).toEqual(['r7', 'r6', 'r5']);
      expect(first.next).toEqual(expect.any(String));
      const second = await log.search({}, { limit: 3, after: first.next });
      expect(ids(second.rows)).toEqual(['r4', 'r3', 'r2']);
      const third = await log.search({}, { limit: 3, after: second.next });
      expect(ids(third.rows)).toEqual(['r1']);
      expect(third.next).toBeUndefined();
    });

    const refused: [string, MessageLogFilter, MessageLogPage, string][] = [
      ['an unknown kind', { kind: 'event' as never }, {}, 'kind'],
      ['an unknown outcome', { outcome: 'broken' as never }, {}, 'outcome'],
      ['ok with failed', { outcome: 'ok', failed: true }, {}, 'outcome'],
      ['limit 0', {}, { limit: 0 }, 'limit'],
      ['limit over 1000', {}, { limit: 1001 }, 'limit'],
      ['a cursor that does not parse', {}, { after: 'not-a-cursor' }, 'after'],
      [
        'an unknown filter',
        { customerId: 'c-1' } as MessageLogFilter,
        {},
        'customerId',
      ],
      ['an invalid date', { since: new Date('nope') }, {}, 'since'],
      ['an empty payload filter', { where: {} }, {}, 'where'],
      ['an empty type list', { type: [] }, {}, 'type'],
    ];
    it.each(refused)(
      'refuses %s, naming it',
      async (_, filter, page, field) => {
        const error = await log.search(filter, page).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MessageLogSearchError);
        expect((error as MessageLogSearchError).field).toBe(field);
        expect((error as Error).message).toMatch(new RegExp(`^${field}: `));
      },
    );
  });

  it('pages without repeating or missing a row while new rows arrive, ties in time included', async () => {
    const { log } = await start();
    // 40 rows over 20 instants: every instant is shared by two rows (ties broken by id).
    const initial: Seed[] = Array.from({ length: 40 }, (_, i) => ({
      id: `p-${String(i).padStart(2, '0')}`,
      type: 'orders.PlaceOrder',
      app: 'orders',
      minute: Math.floor(i / 2),
    }));
    await seed(initial);
    const seen: string[] = [];
    let after: string | undefined;
    let arrivals = 0;
    do {
      const page = await log.search(
        { type: 'orders.PlaceOrder' },
        { limit: 7, after },
      );
      seen.push(...ids(page.rows));
      after = page.next;
      // A row arrives between pages, newer than every row read so far.
      await seed([
        {
          id: `new-${arrivals++}`,
          type: 'orders.PlaceOrder',
          app: 'orders',
          minute: 100 + arrivals,
        },
      ]);
    } while (after !== undefined);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(initial.map((r) => r.id).sort());
    const times = seen.map((id) => Math.floor(Number(id.slice(2)) / 2));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('gets the rows of one message id', async () => {
    const { log, gateway } = await start();
    await gateway.send(new Deposit('z-1', 3), { id: 'deposit-z' });
    const [row] = await log.get('deposit-z');
    expect(row).toMatchObject({
      kind: 'command',
      id: 'deposit-z',
      type: 'ledger.Deposit',
      app: 'ledger',
      outcome: 'ok',
      result: { account: 'z-1' },
      streams: ['account-z-1'],
    });
    expect(row.positions).toHaveLength(1);
    expect(await log.get('nothing-here')).toEqual([]);
  });

  it('traces command → event → consumer → its commands → their events, with the failures, from any id', async () => {
    mirrored.done.length = 0;
    mirrored.refused.length = 0;
    const { log, gateway, writer } = await start(true);
    await gateway.send(new Deposit('a-1', 5), { id: 'deposit-1' });
    await waitUntil(
      () => mirrored.done.length === 1,
      'the mirror consumer handled the deposit',
    );
    const eventId = mirrored.done[0];
    expect(mirrored.refused).toEqual([eventId]);
    // A consumer's failure as error-messages/ logs it: a row of kind error,
    // caused by the event, whose payload names the failing handler.
    writer.record({
      kind: 'error',
      id: 'error-1',
      type: 'ledger.Deposited',
      payload: {
        handler: 'consumer:mirror:onDeposited',
        messageKind: 'event',
        attempt: 1,
        next: 'retry',
      },
      metadata: {
        correlationId: 'deposit-1',
        causationId: eventId,
      },
      app: 'ledger',
      receivedAt: new Date(),
      finishedAt: new Date(),
      outcome: 'failed',
      error: { name: 'Error', message: 'boom' },
    });
    await writer.flush();
    // Both events passed by the consumer (the twin's event too, which it ignores).
    await waitUntil(async () => {
      const t = await log.trace('deposit-1');
      const events = t ? flatten(t.root).filter((n) => n.kind === 'event') : [];
      return (
        events.length === 2 &&
        events.every((e) => e.consumers?.every((c) => c.passed))
      );
    }, 'the consumer passed both events');

    const trace = await log.trace('deposit-1');
    expect(trace).toBeDefined();
    if (!trace) return;
    expect(trace.correlationId).toBe('deposit-1');
    expect(trace.detached).toEqual([]);
    expect(trace.truncated).toBe(false);
    // The Withdraw's refusal is also an error message of its own (error-messages/).
    expect(trace.messages).toBe(7);
    expect(trace.failures).toBe(3);
    expect(shape(trace.root)).toEqual({
      node: 'command ledger.Deposit ok',
      children: [
        {
          node: 'event ledger.Deposited account-a-1',
          children: [
            {
              node: 'command ledger.Deposit ok',
              children: [
                { node: 'event ledger.Deposited account-b-1', children: [] },
              ],
            },
            {
              node: 'command ledger.Withdraw rejected',
              children: [
                { node: 'error ledger.Withdraw rejected', children: [] },
              ],
            },
            { node: 'error ledger.Deposited failed', children: [] },
          ],
        },
      ],
    });
    const root = trace.root;
    expect(root).toMatchObject({
      id: 'deposit-1',
      app: 'ledger',
      instance: 'ledger-1',
      offsetMs: 0,
    });
    expect(root.durationMs).toEqual(expect.any(Number));
    const event = root.children[0];
    expect(event.id).toBe(eventId);
    expect(event.app).toBe('ledger');
    expect(event.position).toEqual(expect.any(String));
    expect(event.consumers).toEqual([
      { consumer: 'mirror', passed: true, stopped: false, failed: true },
    ]);
    const [, withdraw, error] = event.children;
    expect(withdraw.error).toMatchObject({
      name: 'Overdrawn',
      code: 'OVERDRAWN',
    });
    expect(error.consumer).toBe('mirror');
    for (const node of flatten(root))
      expect(node.offsetMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);

    // The same tree from a leaf, from the event's id, and from the correlation id.
    for (const id of [withdraw.id, eventId, event.children[0].children[0].id]) {
      expect(await log.trace(id)).toEqual(trace);
    }
    expect(await log.trace('no-such-message')).toBeUndefined();
  });
}

function flatten(node: TraceNode): TraceNode[] {
  return [node, ...node.children.flatMap(flatten)];
}

interface Shape {
  node: string;
  children: Shape[];
}

function shape(node: TraceNode): Shape {
  return {
    node: [
      node.kind,
      node.type,
      node.kind === 'event' ? node.streamId : node.outcome,
    ].join(' '),
    children: node.children.map(shape),
  };
}
