import { changed, generate, runSchematic } from './run-schematic.js';
import { chronicleRepository, repositoryProjects } from './workspaces.js';

// aggregate, command, query, event and consumer on a copy of this repository's
// workspace, in its orders app.

const before = chronicleRepository();
const APP_MODULE = 'apps/orders/src/app.module.ts';
const ORDERS_MODULE = 'apps/orders/src/orders/orders.module.ts';

describe('command', () => {
  it('writes the command, its handler and a spec, and provides the handler', () => {
    const after = generate(
      'command',
      { name: 'ship-order', project: 'orders' },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        APP_MODULE,
        'apps/orders/src/ship-order/ship-order.command.ts',
        'apps/orders/src/ship-order/ship-order.handler.spec.ts',
        'apps/orders/src/ship-order/ship-order.handler.ts',
      ].sort(),
    );
    expect(after['apps/orders/src/ship-order/ship-order.command.ts']).toContain(
      "@CommandType('orders.ShipOrder')",
    );
    expect(after[APP_MODULE]).toContain(
      "import { ShipOrderHandler } from './ship-order/ship-order.handler.js';",
    );
    expect(after[APP_MODULE]).toMatch(/providers: \[ShipOrderHandler\]/);
  });

  it('goes under --path, into the nearest module there', () => {
    const after = generate(
      'command',
      { name: 'ShipOrder', project: 'orders', path: 'orders' },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        ORDERS_MODULE,
        'apps/orders/src/orders/ship-order/ship-order.command.ts',
        'apps/orders/src/orders/ship-order/ship-order.handler.spec.ts',
        'apps/orders/src/orders/ship-order/ship-order.handler.ts',
      ].sort(),
    );
    expect(after[ORDERS_MODULE]).toContain(
      'providers: [PlaceOrderHandler, ShipOrderHandler]',
    );
    expect(after[ORDERS_MODULE]).toContain(
      "import { ShipOrderHandler } from './ship-order/ship-order.handler.js';",
    );
  });

  it('writes into the path itself with flat, and no spec with spec: false', () => {
    const after = generate(
      'command',
      {
        name: 'orders/ship-order',
        project: 'orders',
        flat: true,
        spec: false,
      },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        ORDERS_MODULE,
        'apps/orders/src/orders/ship-order.command.ts',
        'apps/orders/src/orders/ship-order.handler.ts',
      ].sort(),
    );
  });

  it('does not touch the module with skipImport', () => {
    const after = generate(
      'command',
      { name: 'ship-order', project: 'orders', skipImport: true },
      before,
    );
    expect(after[APP_MODULE]).toBe(before[APP_MODULE]);
  });

  it('uses the sourceRoot the Nest CLI passes', () => {
    const after = generate(
      'command',
      { name: 'ship-order', sourceRoot: 'apps/orders/src' },
      before,
    );
    expect(after['apps/orders/src/ship-order/ship-order.command.ts']).toContain(
      "@CommandType('orders.ShipOrder')",
    );
  });

  it('refuses a project nest-cli.json does not list, naming the ones it does', () => {
    expect(
      runSchematic('command', { name: 'ship-order', project: 'nope' }, before)
        .error,
    ).toEqual({
      name: 'SchematicsException',
      message:
        `Project "nope" is not in nest-cli.json (its projects: ${repositoryProjects().join(', ')}). ` +
        'Pass -p with one of them, or leave it out to use the default project.',
    });
  });

  it('refuses a name that is not one', () => {
    expect(
      runSchematic('command', { name: '1st-order', project: 'orders' }, before)
        .error,
    ).toMatchObject({
      name: 'SchematicsException',
      message: expect.stringContaining(
        '"1st-order" is not a valid command name',
      ),
    });
  });
});

describe('query', () => {
  it('writes the query, its handler and a spec, and provides the handler', () => {
    const after = generate(
      'query',
      { name: 'count-orders', project: 'orders', path: 'orders' },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        ORDERS_MODULE,
        'apps/orders/src/orders/count-orders/count-orders.handler.spec.ts',
        'apps/orders/src/orders/count-orders/count-orders.handler.ts',
        'apps/orders/src/orders/count-orders/count-orders.query.ts',
      ].sort(),
    );
    expect(
      after['apps/orders/src/orders/count-orders/count-orders.query.ts'],
    ).toContain("@QueryType('orders.CountOrders')");
    expect(after[ORDERS_MODULE]).toContain(
      'providers: [PlaceOrderHandler, CountOrdersHandler]',
    );
  });
});

describe('event', () => {
  it('writes the event and a spec, and registers nothing', () => {
    const after = generate(
      'event',
      { name: 'order-shipped', project: 'orders', path: 'orders', flat: true },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        'apps/orders/src/orders/order-shipped.event.spec.ts',
        'apps/orders/src/orders/order-shipped.event.ts',
      ].sort(),
    );
    expect(after['apps/orders/src/orders/order-shipped.event.ts']).toContain(
      "@EventType('orders.OrderShipped')",
    );
  });
});

describe('aggregate', () => {
  it("adds the aggregate to the module's ChronicleModule.forFeature", () => {
    const after = generate(
      'aggregate',
      { name: 'invoice', project: 'orders', path: 'orders', flat: true },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        'apps/orders/src/orders/invoice.aggregate.spec.ts',
        'apps/orders/src/orders/invoice.aggregate.ts',
        'apps/orders/src/orders/invoice.events.ts',
        ORDERS_MODULE,
      ].sort(),
    );
    expect(after[ORDERS_MODULE]).toContain(
      'imports: [ChronicleModule.forFeature([Order, Invoice])]',
    );
    expect(after[ORDERS_MODULE]).toContain(
      "import { Invoice } from './invoice.aggregate.js';",
    );
    expect(after['apps/orders/src/orders/invoice.aggregate.ts']).toContain(
      "@Aggregate({ type: 'orders.Invoice' })",
    );
    // Its rule's error has a stable name, so it crosses the wire as itself; the spec expects it.
    expect(after['apps/orders/src/orders/invoice.aggregate.ts']).toContain(
      "@ErrorType('orders.InvoiceAlreadyExists')",
    );
    expect(after['apps/orders/src/orders/invoice.aggregate.spec.ts']).toContain(
      'toThrow(InvoiceAlreadyExists)',
    );
  });

  it('adds ChronicleModule.forFeature to a module without it', () => {
    const after = generate(
      'aggregate',
      { name: 'invoice', project: 'orders' },
      before,
    );
    expect(after[APP_MODULE]).toContain(
      'ChronicleModule.forFeature([Invoice])',
    );
    expect(after[APP_MODULE]).toContain(
      "import { Invoice } from './invoice/invoice.aggregate.js';",
    );
  });
});

describe('consumer', () => {
  it("handles the app's first event and is provided", () => {
    const after = generate(
      'consumer',
      { name: 'order-totals', project: 'orders', path: 'orders' },
      before,
    );
    expect(changed(before, after)).toEqual(
      [
        ORDERS_MODULE,
        'apps/orders/src/orders/order-totals/order-totals.consumer.spec.ts',
        'apps/orders/src/orders/order-totals/order-totals.consumer.ts',
      ].sort(),
    );
    const consumer =
      after['apps/orders/src/orders/order-totals/order-totals.consumer.ts'];
    expect(consumer).toContain("@Consumer('orders.order-totals')");
    expect(consumer).toContain(
      "import { OrderPlaced } from '../order.events.js';",
    );
    expect(after[ORDERS_MODULE]).toContain(
      'providers: [PlaceOrderHandler, OrderTotalsConsumer]',
    );
  });

  it('says to generate an event first when the app has none', () => {
    const empty = Object.fromEntries(
      Object.entries(before).filter(
        ([path]) => !path.startsWith('apps/orders/src/orders/'),
      ),
    );
    expect(
      runSchematic('consumer', { name: 'totals', project: 'orders' }, empty)
        .error,
    ).toEqual({
      name: 'SchematicsException',
      message:
        'A consumer handles events, and there is no @EventType class under apps/orders/src yet: ' +
        'generate one first (nest g event NAME), then the consumer.',
    });
  });
});

describe("@nestjs/schematics' own schematics, through the collection", () => {
  it('service', () => {
    const after = generate(
      'service',
      { name: 'pricing', sourceRoot: 'apps/orders/src', spec: false },
      before,
    );
    expect(changed(before, after)).toEqual(
      [APP_MODULE, 'apps/orders/src/pricing/pricing.service.ts'].sort(),
    );
  });

  it('library', () => {
    const after = generate(
      'library',
      { name: 'money', prefix: '@shop' },
      before,
    );
    expect(after['libs/money/src/money.module.ts']).toBeDefined();
  });
});
