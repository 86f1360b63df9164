import 'reflect-metadata';
import {
  ChronicleModule,
  CommandBus,
  EventBus,
  EventStore,
  envelopeOf,
  listProcesses,
  MessageGateway,
  MessageLog,
  PostgresEventStore,
  QueryBus,
  remoteSearch,
  traceText,
  messageTypeOf,
  type ProcessInstanceOverview,
  type StoredEvent,
} from '@chronicle/core';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AddStock,
  AuthorizePayment,
  GetOrder,
  GetStockLevels,
  OrderLine,
  PlaceOrder,
  SearchOrders,
  type OrderStatus,
  type OrderSummary,
} from '@shop/contracts';
import { InventoryModule, inventoryTypeOrm } from '@shop/inventory';
import { ORDER_FULFILMENT, OrdersModule } from '@shop/orders';
import { PaymentsModule } from '@shop/payments';

/*
 * `npm start`: the shop's three microclients in one process on the embedded
 * default (PGlite in memory, in-process delivery), driven through a short
 * scenario. Everything that happens is printed as it happens: the commands
 * (the customers' and the ones the apps send each other), the events, the
 * payment deadline being set; at the end the stock-levels projection, each
 * order's fulfilment (the process manager) step by step, and the message
 * log's tree of one payment.
 */

// Short enough to watch the deadline fire; the orders app's default is 15m.
process.env.PAYMENT_TIMEOUT ??= '2s';

let started = Date.now();
const say = (text: string) => console.log(text);
const at = () => `+${String(Date.now() - started).padStart(5)}ms`;
const step = (text: string) => say(`\n▶ ${text}`);

/** The payload's fields in one short line. */
const brief = (payload: object) => {
  const text = JSON.stringify(payload);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
};

@Module({
  imports: [
    // Always embedded, so the demo starts clean on every run; the apps
    // themselves (`npm run start:orders` ...) use PostgreSQL and NATS.
    ChronicleModule.forRoot({
      app: 'shop-demo',
      database: { embedded: true },
      transport: { local: true },
    }),
    inventoryTypeOrm(),
    OrdersModule,
    PaymentsModule,
    InventoryModule,
  ],
})
class DemoModule {}

const app = await NestFactory.createApplicationContext(DemoModule, {
  logger: ['error'],
});
started = Date.now();
const commands = app.get(CommandBus);
const queries = app.get(QueryBus);
const store = app.get(EventStore) as PostgresEventStore;

// @nestjs/cqrs's CommandBus is observable: every command, whoever sends it.
commands.subscribe((command) =>
  say(
    `  ${at()}  command  ${messageTypeOf(command, 'command').name.padEnd(26)} ${brief(command)}`,
  ),
);
// Events reach the EventBus after they commit, with their stored envelope.
app.get(EventBus).subscribe((event) => {
  const stored = envelopeOf<StoredEvent>(event);
  if (stored)
    say(
      `  ${at()}    event  ${stored.type.padEnd(26)} ${stored.streamId} v${stored.streamVersion}`,
    );
});

/** Waits until `ask` answers `true` (the apps react asynchronously, as they would split). */
async function until(what: string, ask: () => Promise<boolean>) {
  for (let tries = 0; tries < 500; tries++) {
    if (await ask()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`The demo waited 10 s for ${what}`);
}
const status = async (orderId: string): Promise<OrderStatus> =>
  (await queries.execute(new GetOrder(orderId))).status;
/** An order's fulfilment, as `npx chronicle processes order-fulfilment --key <id>` reads it. */
const fulfilmentOf = async (
  orderId: string,
): Promise<ProcessInstanceOverview | undefined> =>
  (
    await listProcesses(store.client, store.schema, {
      name: ORDER_FULFILMENT,
      key: orderId,
    })
  )[0];
const settled = (orderId: string) =>
  until(
    `order ${orderId} to settle`,
    async () => (await status(orderId)) !== 'placed',
  );

say(
  'Chronicle shop: orders, payments and inventory in one process\n' +
    '(embedded PGlite in memory, in-process delivery; the same modules run split over NATS)',
);

step('Stock arrives: 10 tea, 5 scones');
await commands.execute(new AddStock('tea', 10));
await commands.execute(new AddStock('scone', 5));

step('Ada orders 2 tea and 3 scones, and pays: confirmed');
await commands.execute(
  new PlaceOrder('o-1', 'ada', [
    OrderLine.of('tea', 2, 4.5),
    OrderLine.of('scone', 3, 2),
  ]),
);
await commands.execute(new AuthorizePayment('o-1'));
await settled('o-1');

step(
  'Bob orders 4 tea at 150 each, and pays: declined (card limit 500), cancelled',
);
await commands.execute(
  new PlaceOrder('o-2', 'bob', [OrderLine.of('tea', 4, 150)]),
);
// Sent with an id of our own, to find it in the message log at the end.
await app
  .get(MessageGateway)
  .send(new AuthorizePayment('o-2'), { id: 'bob-pays' });
await settled('o-2');

step(
  'Cy orders 10 scones: only 2 are left, so inventory reports a shortage, cancelled',
);
await commands.execute(
  new PlaceOrder('o-3', 'cy', [OrderLine.of('scone', 10, 2)]),
);
await settled('o-3');

step(
  `Dee orders 1 tea and never pays: the payment deadline (${process.env.PAYMENT_TIMEOUT}) cancels it`,
);
await commands.execute(
  new PlaceOrder('o-4', 'dee', [OrderLine.of('tea', 1, 4.5)]),
);
// The process manager sets the deadline when it sees OrderPlaced, a moment later.
let deadline: string | undefined;
await until('the fulfilment of o-4 to set its deadline', async () => {
  deadline = (await fulfilmentOf('o-4'))?.deadlines[0]?.dueAt;
  return deadline !== undefined;
});
say(`  ${at()}  deadline ${ORDER_FULFILMENT} o-4: payment due at ${deadline}`);
await settled('o-4');

step('Stock levels, from the inventory projection (TypeORM entities)');
const expected = { tea: 2, scone: 3 };
await until('the projection to catch up', async () => {
  const levels = await queries.execute(new GetStockLevels());
  return levels.every(
    (l) => l.reserved === expected[l.sku as keyof typeof expected],
  );
});
for (const level of await queries.execute(new GetStockLevels())) {
  say(
    `    ${level.sku.padEnd(6)} on hand ${String(level.onHand).padStart(3)}` +
      `  reserved ${String(level.reserved).padStart(3)}  available ${String(level.available).padStart(3)}`,
  );
}

step('The orders, rebuilt from their streams');
for (const orderId of ['o-1', 'o-2', 'o-3', 'o-4']) {
  const order = await queries.execute(new GetOrder(orderId));
  let reason = '';
  for await (const event of store.readStream(`orders.Order-${orderId}`)) {
    if (event.type === 'orders.OrderCancelled')
      reason = ` (${(event.payload as { reason: string }).reason})`;
  }
  say(
    `    ${orderId}  ${order.status.padEnd(9)} total ${String(order.total).padStart(5)}${reason}`,
  );
}

step(
  'The order search: documents kept by a consumer, searched with the SearchOrders query',
);
const search = () => remoteSearch<OrderSummary>(queries, SearchOrders);
await until('the order search to see every order settled', async () => {
  const open = await search().eq('status', 'placed').count();
  return open === 0 && (await search().count()) === 4;
});
const show = async (what: string, found: ReturnType<typeof search>) => {
  const ids = (await found.sortBy('orderId').page()).items.map((i) => i.id);
  say(`    ${what.padEnd(44)} ${ids.join(', ') || '(none)'}`);
};
await show(
  "Ada's orders (eq('customerId', 'ada'))",
  search().eq('customerId', 'ada'),
);
await show(
  "cancelled (eq('status', 'cancelled'))",
  search().eq('status', 'cancelled'),
);
await show("with scones (match('scones'))", search().match('scones'));
await show(
  "cancelled for want of stock (match('stock'))",
  search().eq('status', 'cancelled').match('stock'),
);
const byStatus = await search().facets('status');
say(
  `    ${'per status (facets)'.padEnd(44)} ${byStatus.map((f) => `${String(f.value)} ${f.count}`).join(', ')}`,
);

step(
  `Each order's fulfilment, step by step (npx chronicle processes ${ORDER_FULFILMENT} --key <id>)`,
);
const log = app.get(MessageLog);
// Each instance ends when it sees its order confirmed or cancelled; the
// commands a step sent are named by id, their types are in the message log.
const fulfilments: ProcessInstanceOverview[] = [];
for (const orderId of ['o-1', 'o-2', 'o-3', 'o-4']) {
  await until(`the fulfilment of ${orderId} to end`, async () => {
    const instance = await fulfilmentOf(orderId);
    if (instance?.status === 'ended') fulfilments.push(instance);
    return instance?.status === 'ended';
  });
}
const typeOf = new Map<string, string>();
const sent = fulfilments.flatMap((f) => f.history.flatMap((s) => s.commands));
await until('the commands the fulfilments sent to be logged', async () => {
  for (const id of sent) {
    const [row] = typeOf.has(id) ? [] : await log.get(id);
    if (row) typeOf.set(id, row.type);
  }
  return sent.every((id) => typeOf.has(id));
});
for (const fulfilment of fulfilments) {
  for (const [i, s] of fulfilment.history.entries()) {
    const method = s.handler.slice(s.handler.lastIndexOf(':') + 1);
    const what = [
      i === 0 ? 'started' : '',
      ...s.commands.map((id) => `sent ${typeOf.get(id)}`),
      i === fulfilment.history.length - 1 ? 'ended' : '',
    ].filter(Boolean);
    say(
      `    ${(i === 0 ? fulfilment.key : '').padEnd(4)} +${String(s.handledAt.getTime() - started).padStart(5)}ms` +
        `  ${s.messageType.padEnd(26)} ${method.padEnd(20)} ${what.join(', ')}`,
    );
  }
}

step(
  "The message log: what Bob's payment caused, across the three modules (npx chronicle trace bob-pays)",
);
// The consumers' positions settle a moment after the last command.
await until('the log to show every consumer past the trace', async () => {
  const trace = await log.trace('bob-pays');
  return JSON.stringify(trace).includes('inventory.StockReleased');
});
const trace = await log.trace('bob-pays');
if (trace) say(traceText(trace).replace(/^(?=.)/gm, '    '));

await app.close();
say('\nDone.');
