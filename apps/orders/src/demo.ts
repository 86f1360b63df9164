import 'reflect-metadata';
import {
  ChronicleModule,
  CommandBus,
  EventStore,
  EventsHandler,
  MessageGateway,
  QueryBus,
  ValidationError,
  aggregateRepositoryToken,
  envelopeOf,
  newMessageId,
  type AggregateRepository,
  type IEventHandler,
  type StoredEvent,
} from '@chronicle/core';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  Order,
  OrderCancelled,
  OrderConfirmed,
  OrderLine,
  OrderPlaced,
  OrdersModule,
  PlaceOrder,
} from './orders/index.js';

// `npm start`: the orders domain in one process on the embedded default, driven
// through a short scenario, printed as a timeline.

const say = (text: string) => console.log(text);
const step = (text: string) => say(`\n▶ ${text}`);

/** An ordinary @nestjs/cqrs event handler: it runs after each event is committed. */
@EventsHandler(OrderPlaced, OrderConfirmed, OrderCancelled)
class TimelinePrinter implements IEventHandler {
  handle(event: object): void {
    const stored = envelopeOf<StoredEvent<object>>(event);
    if (!stored) return;
    say(
      `    event  ${stored.type.padEnd(22)} ${stored.streamId} v${stored.streamVersion}` +
        `  position ${stored.position}  caused by ${stored.metadata.causationId?.slice(-8)}`,
    );
  }
}

@Module({
  imports: [
    // The demo always runs embedded, so it starts clean on every run; the orders
    // app itself (main.ts) uses PostgreSQL when DATABASE_URL is set.
    ChronicleModule.forRoot({
      app: 'orders-demo',
      database: { embedded: true },
    }),
    OrdersModule,
  ],
  providers: [TimelinePrinter],
})
class DemoModule {}

const app = await NestFactory.createApplicationContext(DemoModule, {
  logger: ['warn', 'error'],
});
const commands = app.get(CommandBus);
const queries = app.get(QueryBus);
const gateway = app.get(MessageGateway);
const store = app.get(EventStore);
const orders = app.get<AggregateRepository<Order>>(
  aggregateRepositoryToken(Order),
);

say(
  'Chronicle demo: orders on embedded PGlite (in memory), in-process delivery',
);

step('PlaceOrder o-1: two lines');
const placed = await commands.execute(
  new PlaceOrder('o-1', 'ada', [
    OrderLine.of('tea', 2, 4.5),
    OrderLine.of('scone', 3, 2),
  ]),
);
say(`    result ${JSON.stringify(placed)}`);

step('ConfirmOrder o-1');
await commands.execute(new ConfirmOrder('o-1'));

step('GetOrder o-1 (rebuilt from its stream)');
say(`    result ${JSON.stringify(await queries.execute(new GetOrder('o-1')))}`);

step('PlaceOrder with a bad payload: refused before any handler runs');
try {
  await commands.execute(
    new PlaceOrder('', 'bob', [OrderLine.of('jam', 0, 3)]),
  );
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  for (const v of error.violations)
    say(`    invalid ${v.field}: ${Object.values(v.constraints).join('; ')}`);
}

step('PlaceOrder o-2 sent twice with the same command id: handled once');
const commandId = newMessageId();
const once = await gateway.send(
  new PlaceOrder('o-2', 'bob', [OrderLine.of('jam', 1, 3)]),
  { id: commandId },
);
const twice = await gateway.send(
  new PlaceOrder('o-2', 'bob', [OrderLine.of('jam', 1, 3)]),
  { id: commandId },
);
say(`    first ${JSON.stringify(once)}, second ${JSON.stringify(twice)}`);

step('Two CancelOrder o-2 race: the loser is re-run on fresh state');
await Promise.all([
  commands.execute(new CancelOrder('o-2', 'customer asked')),
  commands.execute(new CancelOrder('o-2', 'out of jam')),
]);

step('Time travel: o-1 as it stood at version 1');
const then = await orders.load('o-1', { atVersion: 1 });
const now = await orders.load('o-1');
say(`    at v1: ${then.status}; now (v${now.version}): ${now.status}`);

step('The whole log, in commit order');
for (const event of (await store.readAll()).events) {
  say(
    `    ${String(event.position).padStart(3)}  ${event.streamId.padEnd(16)} v${event.streamVersion}  ${event.type}`,
  );
}

await app.close();
say('\nDone.');
