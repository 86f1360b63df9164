import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  CommandBus,
  MessageGateway,
  type MessageTrace,
  type TraceNode,
} from '@chronicle/core';
import {
  AddStock,
  AuthorizePayment,
  OrderLine,
  PlaceOrder,
} from '@shop/contracts';
import { DATABASE_URL, freshSchema } from '../../libs/core/test/databases.js';
import { eventually, freshNamespace } from '../../libs/core/test/nats.js';
import { Microclient, startCaller } from '../support/microclient.js';

/*
 * The message log of the shop split into three microclients: what an
 * operator reads with `npx chronicle trace` and `npx chronicle log` after a
 * declined payment, an expired order, and a payment refused for it.
 */

const run = promisify(execFile);
const CLI = 'libs/core/bin/chronicle.js';

const namespace = freshNamespace();
const schema = freshSchema('mlshop');
const inventorySchema = freshSchema('mlstock');
const apps: Microclient[] = [];
let customer: INestApplicationContext;
const pool = new pg.Pool({ connectionString: DATABASE_URL });

beforeAll(async () => {
  for (const app of ['orders', 'payments', 'inventory']) {
    const process = Microclient.start(`apps/${app}/dist/main.js`, {
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: schema,
      INVENTORY_SCHEMA: inventorySchema,
      PAYMENT_TIMEOUT: '2s',
    });
    apps.push(process);
    await process.ready();
  }
  customer = await startCaller(namespace);
}, 120_000);

afterAll(async () => {
  await customer?.close();
  for (const app of apps) app.stop();
  await Promise.all(apps.map((app) => app.exited));
  await pool.query(`DROP SCHEMA IF EXISTS "${inventorySchema}" CASCADE`);
  await pool.end();
});

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [CLI, ...args, '--schema', schema],
    { env: { ...process.env, DATABASE_URL } },
  );
  return stdout;
}

async function traceOf(id: string): Promise<MessageTrace> {
  return JSON.parse(await cli('trace', id, '--json')) as MessageTrace;
}

function flatten(node: TraceNode): TraceNode[] {
  return [node, ...node.children.flatMap(flatten)];
}

/** The one child of `node` of this kind and type, failing clearly when there is none. */
function child(node: TraceNode, kind: string, type: string): TraceNode {
  const found = node.children.find((c) => c.kind === kind && c.type === type);
  if (!found) {
    throw new Error(
      `no ${kind} ${type} under ${node.kind} ${node.type}; children: ${node.children
        .map((c) => `${c.kind} ${c.type}`)
        .join(', ')}`,
    );
  }
  return found;
}

it('traces a declined payment across the three apps: payments, then orders, then inventory', async () => {
  const commands = customer.get(CommandBus);
  await commands.execute(new AddStock('tea', 10));
  await commands.execute(
    new PlaceOrder('o-2', 'bob', [OrderLine.of('tea', 4, 150)]),
  );
  await customer
    .get(MessageGateway)
    .send(new AuthorizePayment('o-2'), { id: 'pay-o-2' });

  // Settled once inventory has released the stock the cancelled order held.
  let trace: MessageTrace | undefined;
  await eventually(
    async () => {
      trace = await traceOf('pay-o-2');
      return flatten(trace.root).some(
        (n) => n.kind === 'event' && n.type === 'inventory.StockReleased',
      );
    },
    'the declined payment to reach inventory',
    60_000,
  );
  const root = trace!.root;
  expect(root).toMatchObject({
    kind: 'command',
    id: 'pay-o-2',
    type: 'payments.AuthorizePayment',
    app: 'payments',
    outcome: 'ok',
  });
  const declined = child(root, 'event', 'payments.PaymentDeclined');
  expect(declined.consumers).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        consumer: 'process:order-fulfilment',
        passed: true,
      }),
    ]),
  );
  // The process manager's command, through its outbox: the delivery, then the handling.
  const delivery = child(declined, 'schedule', 'orders.CancelOrder');
  const cancel = child(delivery, 'command', 'orders.CancelOrder');
  expect(cancel).toMatchObject({ app: 'orders', outcome: 'ok' });
  const cancelled = child(cancel, 'event', 'orders.OrderCancelled');
  const release = child(cancelled, 'command', 'inventory.ReleaseStock');
  expect(release).toMatchObject({ app: 'inventory', outcome: 'ok' });
  child(release, 'event', 'inventory.StockReleased');
  expect(trace!.failures).toBe(0);
  for (const node of flatten(root)) {
    expect(node.offsetMs).toBeGreaterThanOrEqual(0);
  }

  // Who sent it: the customer's app, as the log row says.
  const rows = JSON.parse(
    await cli('log', '--json', '--type', 'payments.AuthorizePayment'),
  ) as {
    rows: { id: string; senderApp: string | null }[];
  };
  const sent = rows.rows.find((r) => r.id === 'pay-o-2');
  expect(sent?.senderApp).toBe('caller');
}, 90_000);

it('traces an order its payment deadline expired, and marks the payment refused after it', async () => {
  const gateway = customer.get(MessageGateway);
  await gateway.send(
    new PlaceOrder('o-4', 'dee', [OrderLine.of('tea', 1, 4.5)]),
    {
      id: 'place-o-4',
    },
  );
  let trace: MessageTrace | undefined;
  await eventually(
    async () => {
      trace = await traceOf('place-o-4');
      const nodes = flatten(trace.root);
      // The delivery's own row is written behind, after the command it sent.
      return (
        nodes.some(
          (n) => n.kind === 'event' && n.type === 'inventory.StockReleased',
        ) && nodes.some((n) => n.kind === 'schedule')
      );
    },
    'the expired order to give its stock back, and its delivery logged',
    60_000,
  );
  const root = trace!.root;
  expect(root).toMatchObject({ type: 'orders.PlaceOrder', app: 'orders' });
  const nodes = flatten(root);
  // The process manager's deadline delivered, the cancellation it sent, and
  // the release in inventory.
  expect(nodes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        kind: 'schedule',
        type: 'chronicle.process.order-fulfilment.deadline',
        app: 'orders',
      }),
      expect.objectContaining({ kind: 'command', type: 'orders.CancelOrder' }),
      expect.objectContaining({
        kind: 'command',
        type: 'inventory.ReserveStock',
        app: 'inventory',
      }),
      expect.objectContaining({
        kind: 'command',
        type: 'inventory.ReleaseStock',
        app: 'inventory',
      }),
    ]),
  );

  // Paying now is refused: the command and its error message, marked as failures.
  await expect(
    gateway.send(new AuthorizePayment('o-4'), { id: 'pay-o-4' }),
  ).rejects.toThrow('not awaiting payment');
  let text = '';
  await eventually(
    async () => {
      text = await cli('trace', 'pay-o-4');
      return text.includes('error');
    },
    'the refusal and its error message in the log',
    30_000,
  );
  expect(text).toContain('payments.AuthorizePayment');
  expect(text).toContain('✗');
  expect(text).toContain('PaymentRefused');

  const failed = await cli('log', '--failed', '--app', 'payments');
  expect(failed).toContain('pay-o-4');
  expect(failed).not.toContain('pay-o-2');
}, 90_000);
