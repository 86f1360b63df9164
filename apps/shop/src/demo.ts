import 'reflect-metadata';
import {
  ChronicleModule,
  CommandBus,
  EventBus,
  EventStore,
  envelopeOf,
  MessageGateway,
  MessageLog,
  QueryBus,
  traceText,
  Scheduler,
  messageTypeOf,
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
  type OrderStatus,
} from '@shop/contracts';
import { InventoryModule, inventoryTypeOrm } from '@shop/inventory';
import { OrdersModule, paymentDeadlineOf } from '@shop/orders';
import { PaymentsModule } from '@shop/payments';

/*
 * `npm start`: the shop's three microclients in one process on the embedded
 * default (PGlite in memory, in-process delivery), driven through a short
 * scenario. Everything that happens is printed as it happens: the commands
 * (the customers' and the ones the apps send each other), the events, the
 * payment deadline firing, and at the end the stock-levels projection.
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
const store = app.get(EventStore);
const scheduler = app.get(Scheduler);

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
const deadline = await scheduler.get(paymentDeadlineOf('o-4'));
say(
  `  ${at()}  schedule ${paymentDeadlineOf('o-4')} due at ${deadline?.dueAt.toISOString()}`,
);
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
  "The message log: what Bob's payment caused, across the three modules (npx chronicle trace bob-pays)",
);
const log = app.get(MessageLog);
// The consumers' positions settle a moment after the last command.
await until('the log to show every consumer past the trace', async () => {
  const trace = await log.trace('bob-pays');
  return JSON.stringify(trace).includes('inventory.StockReleased');
});
const trace = await log.trace('bob-pays');
if (trace) say(traceText(trace).replace(/^(?=.)/gm, '    '));

await app.close();
say('\nDone.');
