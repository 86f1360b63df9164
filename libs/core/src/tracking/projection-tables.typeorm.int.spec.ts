import {
  Module,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import {
  Column,
  DataSource,
  Entity,
  Index,
  JoinTable,
  ManyToMany,
  PrimaryColumn,
  ViewEntity,
} from 'typeorm';
import {
  ChronicleModule,
  Consumer,
  EntityTableError,
  EventStore,
  HandleEvent,
  ProjectionTables,
  SQL_CLIENT,
  TrackingService,
  typeOrmConnectionOptions,
  type ConsumerContext,
  type SqlClient,
} from '../index.js';
import { DATABASE_URL, freshSchema } from '../../test/databases.js';
import {
  Deposited,
  FAST_TRACKING,
  deposited,
  waitFor,
} from '../../test/tracking.fixture.js';
import { entityTableStatements } from './entity-tables.js';
import { createConsumerTables } from './projection-tables.js';

// Consumers whose declared tables are TypeORM entities: Chronicle makes them
// from the entities' metadata in each consumer's own schema, without
// synchronize, and the consumer's EntityManager finds them there.

@Entity({ name: 'stock_level' })
@Index('stock_level_by_warehouse', ['warehouse'])
class StockLevel {
  @PrimaryColumn('text') sku: string;
  @Column('text') warehouse: string;
  @Column('int', { default: 0 }) quantity: number;
  @Column({ type: 'enum', enum: ['empty', 'stocked'], default: 'empty' })
  status: 'empty' | 'stocked';
}

@Entity({ name: 'elsewhere', schema: 'public' })
class EntityWithSchema {
  @PrimaryColumn('text') id: string;
}

@ViewEntity({ name: 'busy_skus', expression: 'SELECT sku FROM stock_level' })
class BusySkus {
  @Column('text') sku: string;
}

@Entity({ name: 'tag' })
class Tag {
  @PrimaryColumn('text') name: string;
}

/** Owns a many-to-many relation: its junction table comes with it. */
@Entity({ name: 'tagged_item' })
class TaggedItem {
  @PrimaryColumn('text') sku: string;
  @ManyToMany(() => Tag)
  @JoinTable({ name: 'tagged_item_tags' })
  tags: Tag[];
}

class NotAnEntity {
  id = '';
}

async function count(
  context: ConsumerContext,
  event: Deposited,
): Promise<void> {
  const manager = await context.entityManager();
  // The first event of a sku leaves quantity and status to their defaults.
  if (!(await manager.findOneBy(StockLevel, { sku: event.account }))) {
    await manager.insert(StockLevel, { sku: event.account, warehouse: 'w1' });
  }
  await manager.increment(
    StockLevel,
    { sku: event.account },
    'quantity',
    event.amount,
  );
  await manager.update(
    StockLevel,
    { sku: event.account },
    { status: 'stocked' },
  );
}

@Consumer('stock-levels', {
  tables: [StockLevel, 'CREATE TABLE arrivals (sku text NOT NULL)'],
})
class StockLevels {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    await count(context, event);
    // Insert only: a replay that did not empty the table would double the rows.
    await (
      await context.entityManager()
    ).query('INSERT INTO arrivals (sku) VALUES ($1)', [event.account]);
  }
}

/** The same entity in another consumer, at version 2: a copy of its own. */
@Consumer('stock-levels-next', { tables: [StockLevel], version: 2 })
class StockLevelsNext {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    await count(context, event);
  }
}

@Consumer('tagging', { tables: [TaggedItem, Tag] })
class Tagging {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const manager = await context.entityManager();
    await manager.save(Tag, { name: 'new' });
    await manager.save(TaggedItem, {
      sku: event.account,
      tags: [{ name: 'new' }],
    });
  }
}

@Consumer('a-view', { tables: [BusySkus] })
class AView {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('pinned', { tables: [EntityWithSchema] })
class Pinned {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('plain-class', {
  tables: [NotAnEntity, 'CREATE TABLE t (x int)'],
})
class PlainClass {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('no-data-source', { tables: [StockLevel], dataSource: false })
class NoDataSource {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

async function boot(
  database: { url?: string; embedded?: boolean },
  schema: string,
  consumers: Type[],
  entities: Type[],
): Promise<INestApplicationContext> {
  @Module({ providers: consumers })
  class ConsumersModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { ...database, schema },
        tracking: FAST_TRACKING,
      }),
      TypeOrmModule.forRootAsync({
        inject: [SQL_CLIENT],
        useFactory: (client: SqlClient) => ({
          ...typeOrmConnectionOptions(client),
          entities,
          synchronize: false,
        }),
      }),
      ConsumersModule,
    ],
  }).compile();
  try {
    return await moduleRef.init();
  } catch (error) {
    await moduleRef.close();
    throw error;
  }
}

/** Drops the test's schemas (its consumers' ones start with its name). */
async function dropSchemas(schema: string): Promise<void> {
  const cleanup = new pg.Client({ connectionString: DATABASE_URL });
  await cleanup.connect();
  try {
    const rows = await cleanup.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1)',
      [schema],
    );
    for (const { name } of rows.rows) {
      await cleanup.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    }
  } finally {
    await cleanup.end();
  }
}

describe.each<[string, { url?: string; embedded?: boolean }]>([
  ['PostgreSQL', { url: DATABASE_URL }],
  ['embedded PGlite', { embedded: true }],
])('TypeORM entities as declared tables (%s)', (_, database) => {
  const schema = freshSchema('ormt');
  let app: INestApplicationContext;

  beforeAll(async () => {
    app = await boot(
      database,
      schema,
      [StockLevels, StockLevelsNext, Tagging],
      [StockLevel, TaggedItem, Tag],
    );
  });

  afterAll(async () => {
    await app?.close();
    if (database.url) await dropSchemas(schema);
  });

  const levels = (consumer: string) =>
    app.get(ProjectionTables).query<{
      sku: string;
      warehouse: string;
      quantity: number;
      status: string;
    }>(consumer, 'SELECT sku, warehouse, quantity, status FROM stock_level ORDER BY sku');
  const arrivals = async () =>
    (
      await app
        .get(ProjectionTables)
        .query<{ n: number }>(
          'stock-levels',
          'SELECT count(*)::int AS n FROM arrivals',
        )
    )[0].n;

  it("creates each entity's table, with its primary key, index, default and enum, in each consumer's schema and nowhere else", async () => {
    const tables = app.get(ProjectionTables);
    const own = await tables.schemaOf('stock-levels');
    const next = await tables.schemaOf('stock-levels-next');
    expect(next).toBe(
      `${own.replace(/_stock_levels$/, '_stock_levels_next')}_v2`,
    );
    const dataSource = app.get(DataSource);
    // The DataSource's own schemas, and this test's (others share the database).
    const ours = (column: string) =>
      `(${column} = ANY (current_schemas(false)) OR starts_with(${column}, '${schema}'))`;
    const where = await dataSource.query<{ schema: string }[]>(
      `SELECT schemaname AS schema FROM pg_tables
        WHERE tablename = 'stock_level' AND ${ours('schemaname')} ORDER BY schemaname`,
    );
    expect(where.map((r) => r.schema)).toEqual([own, next].sort());
    const enums = await dataSource.query<{ schema: string }[]>(
      `SELECT n.nspname AS schema FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typname = 'stock_level_status_enum' AND ${ours('n.nspname')} ORDER BY n.nspname`,
    );
    expect(enums.map((r) => r.schema)).toEqual([own, next].sort());
    for (const holder of [own, next]) {
      const indexes = await dataSource.query<{ def: string }[]>(
        'SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname',
        [holder, 'stock_level'],
      );
      expect(indexes.map((i) => i.def)).toEqual([
        expect.stringMatching(/UNIQUE INDEX .* USING btree \(sku\)$/),
        expect.stringMatching(
          /^CREATE INDEX stock_level_by_warehouse ON .* USING btree \(warehouse\)$/,
        ),
      ]);
    }
  });

  it("writes through the consumer's EntityManager into its own schema, and a reset to the beginning empties and rebuilds the tables", async () => {
    const store = app.get(EventStore);
    for (const [account, amount] of [
      ['a', 2],
      ['b', 5],
      ['a', 3],
    ] as const) {
      await store.append(account, [deposited(account, amount)]);
    }
    const expected = [
      { sku: 'a', warehouse: 'w1', quantity: 5, status: 'stocked' },
      { sku: 'b', warehouse: 'w1', quantity: 5, status: 'stocked' },
    ];
    await waitFor(
      async () =>
        (await arrivals()) === 3 &&
        (await levels('stock-levels-next')).length === 2,
      'both consumers caught up',
    );
    expect(await levels('stock-levels')).toEqual(expected);
    expect(await levels('stock-levels-next')).toEqual(expected);
    await waitFor(
      async () =>
        (
          await app
            .get(ProjectionTables)
            .query('tagging', 'SELECT "taggedItemSku" FROM tagged_item_tags')
        ).length === 2,
      "the tagging consumer's junction rows",
    );

    await app.get(TrackingService).reset('stock-levels', { to: 'beginning' });
    await waitFor(async () => (await arrivals()) === 3, 'the replay');
    expect(await levels('stock-levels')).toEqual(expected);
  });

  it('passes over tables that exist already when it creates them again (a restart)', async () => {
    const dataSource = app.get(DataSource);
    const own = await app.get(ProjectionTables).schemaOf('stock-levels');
    const statements = await entityTableStatements(
      dataSource,
      [StockLevel],
      own,
    );
    await createConsumerTables(app.get(SQL_CLIENT), own, statements);
    expect(await levels('stock-levels')).toHaveLength(2);
  });
});

describe('TypeORM entities that cannot be declared tables', () => {
  const schema = freshSchema('ormx');
  const database = { url: DATABASE_URL };
  afterAll(() => dropSchemas(schema));

  it('refuses an entity that names its own schema, naming the consumer and the entity', async () => {
    const failure = boot(database, schema, [Pinned], [EntityWithSchema]);
    await expect(failure).rejects.toThrow(EntityTableError);
    await expect(failure).rejects.toThrow(
      /Consumer "pinned" declares table EntityWithSchema, which declares schema "public"/,
    );
  });

  it('refuses a view entity, whose table it does not make', async () => {
    const failure = boot(database, schema, [AView], [StockLevel, BusySkus]);
    await expect(failure).rejects.toMatchObject({
      code: 'CONSUMER_ENTITY_TABLE',
      consumer: 'a-view',
      entity: 'BusySkus',
    });
  });

  it('refuses a class that is not an entity of the DataSource, naming the consumer and the class', async () => {
    const failure = boot(database, schema, [PlainClass], [StockLevel]);
    await expect(failure).rejects.toMatchObject({
      code: 'CONSUMER_ENTITY_TABLE',
      consumer: 'plain-class',
      entity: 'NotAnEntity',
    });
  });

  it('refuses entities on a consumer that has no DataSource', async () => {
    const failure = boot(database, schema, [NoDataSource], [StockLevel]);
    await expect(failure).rejects.toThrow(
      /Consumer "no-data-source" declares table StockLevel, which is an entity, but the consumer has no TypeORM DataSource .*dataSource option is false/,
    );
  });
});
