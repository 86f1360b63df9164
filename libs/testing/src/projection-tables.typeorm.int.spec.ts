import { Injectable, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  Consumer,
  EventType,
  HandleEvent,
  ProjectionTables,
  Query,
  QueryHandler,
  QueryType,
  SQL_CLIENT,
  typeOrmConnectionOptions,
  type ConsumerContext,
  type IQueryHandler,
  type SqlClient,
  type StoredEvent,
} from '@chronicle/core';
import { onStream, TestFixture, type FixtureMode } from './index.js';

// A projection whose declared table is a TypeORM entity: each fixture gets a
// fresh copy of it, as of DDL tables.

@EventType('shop.ItemShelved')
class ItemShelved {
  constructor(readonly sku: string) {}
}

@Entity({ name: 'shelf_item' })
class ShelfItem {
  @PrimaryColumn('text') sku: string;
  @Column('int', { default: 1 }) copies: number;
}

@Injectable()
@Consumer('shelf', { tables: [ShelfItem] })
class Shelf {
  @HandleEvent(ItemShelved)
  async onShelved(
    event: ItemShelved,
    _envelope: StoredEvent,
    context: ConsumerContext,
  ): Promise<void> {
    await (await context.entityManager()).insert(ShelfItem, { sku: event.sku });
  }
}

@QueryType('shop.CountShelved')
class CountShelved extends Query<{ items: number }> {}

@QueryHandler(CountShelved)
class CountShelvedHandler implements IQueryHandler<CountShelved> {
  constructor(private readonly tables: ProjectionTables) {}

  async execute(): Promise<{ items: number }> {
    const [row] = await this.tables.query<{ items: number }>(
      'shelf',
      'SELECT count(*)::int AS items FROM shelf_item',
    );
    return row;
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [SQL_CLIENT],
      useFactory: (client: SqlClient) => ({
        ...typeOrmConnectionOptions(client),
        entities: [ShelfItem],
        synchronize: false,
      }),
    }),
  ],
  providers: [Shelf, CountShelvedHandler],
})
class ShopModule {}

const shelved = (sku: string) => onStream(`item-${sku}`, new ItemShelved(sku));

describe.each<FixtureMode>(['embedded', 'integration'])(
  'entity tables of fixtures in %s mode',
  (mode) => {
    const create = () => TestFixture.create({ mode, imports: [ShopModule] });

    it('gives two fixtures open at once a copy each', async () => {
      const one = await create();
      try {
        const two = await create();
        try {
          await one
            .given(shelved('a'))
            .when(new CountShelved())
            .expectResult({ items: 1 });
          await two
            .given(shelved('b'), shelved('c'))
            .when(new CountShelved())
            .expectResult({ items: 2 });
          await one.when(new CountShelved()).expectResult({ items: 1 });
        } finally {
          await two.close();
        }
      } finally {
        await one.close();
      }
    });
  },
);
