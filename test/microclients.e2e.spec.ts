import type { INestApplicationContext } from '@nestjs/common';
import {
  CommandBus,
  RemoteHandlerError,
  ValidationError,
} from '@chronicle/core';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  OrderLine,
  PlaceOrder,
} from '@shop/contracts';
import { freshSchema } from '../libs/core/test/databases.js';
import { eventually, freshNamespace } from '../libs/core/test/nats.js';
import { ShipParcel, SlowParcel } from '../libs/core/test/shipping.fixture.js';
import { Microclient, startCaller } from './support/microclient.js';

describe('microclients in separate processes over NATS', () => {
  const started: Microclient[] = [];
  let caller: INestApplicationContext | undefined;

  afterEach(async () => {
    await caller?.close();
    caller = undefined;
    for (const app of started.splice(0)) {
      app.stop('SIGKILL');
      await app.exited;
    }
  });

  it('the orders app handles commands and queries sent from another process', async () => {
    const namespace = freshNamespace();
    const orders = Microclient.start('apps/orders/dist/main.js', {
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('orders'),
    });
    started.push(orders);
    await orders.ready();
    caller = await startCaller(namespace);
    const commands = caller.get(CommandBus);

    const placed = await commands.execute(
      new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 2, 4.5)]),
    );
    expect(placed).toEqual({ orderId: 'o-1', total: 9 });
    await commands.execute(new ConfirmOrder('o-1'));
    expect(
      await caller
        .get(CommandBus)
        .execute(new CancelOrder('o-1', 'changed mind')),
    ).toBeUndefined();
    const { QueryBus } = await import('@chronicle/core');
    expect(
      await caller.get(QueryBus).execute(new GetOrder('o-1')),
    ).toMatchObject({
      status: 'cancelled',
      total: 9,
      version: 3,
    });

    // The sending side validates, and domain errors come back typed.
    await expect(
      commands.execute(new PlaceOrder('o-2', 'ada', [])),
    ).rejects.toBeInstanceOf(ValidationError);
    const refused = await commands
      .execute(new ConfirmOrder('o-1'))
      .catch((e: unknown) => e);
    // Declared in the orders app, not loaded by this caller: named, not rebuilt.
    expect(refused).toBeInstanceOf(RemoteHandlerError);
    expect(refused).toMatchObject({
      remoteName: 'OrderRuleViolated',
      errorType: 'orders.OrderRuleViolated',
    });
    expect((refused as Error).message).toContain(
      'only a placed order can be confirmed',
    );
  });

  it('two instances of one app share the load', async () => {
    const namespace = freshNamespace();
    for (const instance of ['one', 'two']) {
      const app = Microclient.start('test/support/parcel-app.mjs', {
        INSTANCE: instance,
        CHRONICLE_NAMESPACE: namespace,
        CHRONICLE_SCHEMA: freshSchema('parcels'),
      });
      started.push(app);
    }
    await Promise.all(started.map((app) => app.ready()));
    caller = await startCaller(namespace);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        caller!.get(CommandBus).execute(new ShipParcel(`p-${i}`, 1)),
      ),
    );
    expect(new Set(results.map((r) => r.handledBy))).toEqual(
      new Set(['one', 'two']),
    );
  });

  it('a stopping instance answers every request it already took', async () => {
    const namespace = freshNamespace();
    const app = Microclient.start('test/support/parcel-app.mjs', {
      INSTANCE: 'only',
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('parcels'),
    });
    started.push(app);
    await app.ready();
    caller = await startCaller(namespace);
    const inFlight = Array.from({ length: 8 }, (_, i) =>
      caller!.get(CommandBus).execute(new SlowParcel(`p-${i}`, 500)),
    );
    await eventually(
      () => app.lines.filter((l) => l.startsWith('started')).length === 8,
      'all eight reached the handler',
    );
    app.stop('SIGTERM');
    expect(await Promise.all(inFlight)).toEqual(
      Array.from({ length: 8 }, (_, i) => `shipped p-${i} by only`),
    );
    // Nest re-raises the signal once the app has closed, so the process ends by it.
    await app.exited;
  });
});
