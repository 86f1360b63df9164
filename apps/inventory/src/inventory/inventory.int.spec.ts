import { Injectable } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@chronicle/core';
import {
  onAggregate,
  onStream,
  TestFixture,
  type FixtureMode,
} from '@chronicle/testing';
import {
  AddStock,
  GetOrder,
  GetStockLevels,
  OrderCancelled,
  OrderPlaced,
  StockShortage,
  type OrderView,
} from '@shop/contracts';
import { DataSource } from 'typeorm';
import {
  InventoryModule,
  inventoryTypeOrm,
  ReleaseStock,
  ReserveStock,
  StockAdded,
  StockItem,
  StockReleased,
  StockReserved,
} from './index.js';

/** Orders, as inventory sees it: every order held 2 rye, and is cancelled. */
@Injectable()
@QueryHandler(GetOrder)
class OrdersStandIn implements IQueryHandler<GetOrder> {
  async execute({ orderId }: GetOrder): Promise<OrderView> {
    const lines = [{ sku: 'rye', quantity: 2, unitPrice: 4.5 }];
    return { orderId, status: 'cancelled', total: 9, lines, version: 2 };
  }
}

describe.each<FixtureMode>(['embedded', 'integration'])(
  'inventory (%s)',
  (mode) => {
    let fixture: TestFixture;
    // The read model's own schema, so runs on a shared PostgreSQL never meet.
    const schema = `inventory_${mode}_${Date.now().toString(36)}`;
    beforeAll(async () => {
      fixture = await TestFixture.create({
        imports: [inventoryTypeOrm(schema), InventoryModule],
        providers: [OrdersStandIn],
        mode,
      });
    });
    afterAll(async () => {
      await fixture.app
        .get(DataSource)
        .query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await fixture.close();
    });

    it('adds stock', async () => {
      await fixture
        .when(new AddStock('tea', 10))
        .expectEvents(new StockAdded('tea', 10))
        .expectResult({ sku: 'tea', onHand: 10 });
    });

    it('reserves every line of a placed order, in one transaction', async () => {
      await fixture
        .given(
          onAggregate(StockItem, 'jam', new StockAdded('jam', 5)),
          onAggregate(StockItem, 'bun', new StockAdded('bun', 5)),
        )
        .when(
          onStream(
            'orders.Order-o-1',
            new OrderPlaced(
              'o-1',
              'ada',
              [
                { sku: 'jam', quantity: 2, unitPrice: 1 },
                { sku: 'bun', quantity: 5, unitPrice: 1 },
              ],
              7,
            ),
          ),
        )
        .expectCommands(
          new ReserveStock('o-1', [
            { sku: 'jam', quantity: 2 },
            { sku: 'bun', quantity: 5 },
          ]),
        )
        .expectState(StockItem, 'jam', (item) => item.available === 3)
        .expectState(StockItem, 'bun', (item) => item.available === 0);
    });

    it('reserves nothing when one line falls short, and says which', async () => {
      await fixture
        .given(
          onAggregate(StockItem, 'fig', new StockAdded('fig', 5)),
          onAggregate(StockItem, 'nut', new StockAdded('nut', 1)),
        )
        .when(
          new ReserveStock('o-2', [
            { sku: 'fig', quantity: 2 },
            { sku: 'nut', quantity: 3 },
          ]),
        )
        .expectResult({ reserved: false })
        .expectEvents(new StockShortage('o-2', 'nut', 3, 1))
        .expectState(StockItem, 'fig', (item) => item.available === 5);
    });

    it('reserves an order once, however often it is asked', async () => {
      await fixture
        .given(
          onAggregate(
            StockItem,
            'ham',
            new StockAdded('ham', 3),
            new StockReserved('ham', 'o-7', 3),
          ),
        )
        .when(new ReserveStock('o-7', [{ sku: 'ham', quantity: 3 }]))
        .expectResult({ reserved: true })
        .expectNoEvents();
    });

    it('gives back what a cancelled order held', async () => {
      await fixture
        .given(
          onAggregate(
            StockItem,
            'rye',
            new StockAdded('rye', 5),
            new StockReserved('rye', 'o-3', 2),
          ),
        )
        .when(onStream('orders.Order-o-3', new OrderCancelled('o-3', 'late')))
        .expectCommands(new ReleaseStock('o-3', ['rye']))
        .expectEvents(
          new OrderCancelled('o-3', 'late'),
          new StockReleased('rye', 'o-3', 2),
        )
        .expectState(StockItem, 'rye', (item) => item.available === 5);
    });

    it('keeps the stock-levels projection, answering GetStockLevels', async () => {
      await fixture
        .given(
          onAggregate(
            StockItem,
            'oat',
            new StockAdded('oat', 8),
            new StockReserved('oat', 'o-4', 3),
            new StockReserved('oat', 'o-5', 1),
            new StockReleased('oat', 'o-4', 3),
          ),
        )
        .when(new GetStockLevels())
        .expectResult(
          expect.arrayContaining([
            { sku: 'oat', onHand: 8, reserved: 1, available: 7 },
          ]),
        );
    });

    it('validates its commands', async () => {
      await fixture
        .when(new ReserveStock('o-6', [{ sku: 'tea', quantity: 0 }]))
        .expectError(Error, /quantity/)
        .expectNoEvents();
    });
  },
);
