import type { DataSource } from 'typeorm';
import { EntityTableError } from './tracking.errors.js';

/*
 * TypeORM is an optional peer: this file imports its types, and its runtime
 * (the Table class) only when a consumer declares entity tables, which means
 * the app has TypeORM.
 */

/** A TypeORM entity class, given in a consumer's `tables`. */
export type EntityClass = abstract new (...args: never[]) => object;

/** One of a consumer's `tables`: a DDL statement, or a TypeORM entity. */
export type ConsumerTable = string | EntityClass;

/**
 * Checks that every class in a consumer's `tables` is an entity of its
 * DataSource whose table the consumer's schema can hold: TypeORM puts an
 * entity's (or the DataSource's) `schema` before the table's name in every
 * query, so the search_path could not send it to the consumer's schema.
 */
export function checkEntityTables(
  consumer: string,
  entities: readonly EntityClass[],
  dataSource: DataSource,
  dataSourceName: string,
): void {
  for (const entity of entities) {
    if (!dataSource.hasMetadata(entity)) {
      throw new EntityTableError(
        consumer,
        entity.name,
        `is not an entity of the TypeORM DataSource "${dataSourceName}": decorate it with @Entity() and list it in that DataSource's entities (or TypeOrmModule.forFeature)`,
      );
    }
    const metadata = dataSource.getMetadata(entity);
    if (metadata.tableType !== 'regular') {
      throw new EntityTableError(
        consumer,
        entity.name,
        `is a TypeORM ${metadata.tableType} entity, whose table Chronicle does not make: declare its table as DDL, or list the entity that owns it`,
      );
    }
    if (metadata.tableMetadataArgs.schema !== undefined) {
      throw new EntityTableError(
        consumer,
        entity.name,
        `declares schema "${metadata.tableMetadataArgs.schema}": the consumer's own schema holds its tables, so remove schema from its @Entity()`,
      );
    }
    if (metadata.schema !== undefined) {
      throw new EntityTableError(
        consumer,
        entity.name,
        `gets schema "${metadata.schema}" from the TypeORM DataSource "${dataSourceName}", which TypeORM puts before its table's name: remove schema from that DataSource's options (the consumer's own schema holds its tables)`,
      );
    }
  }
}

/**
 * The DDL of entities' tables in `schema`, as TypeORM's own schema builder
 * writes it (columns, defaults, primary key, uniques, checks, indexes, enum
 * types, the junction tables of the many-to-many relations they own),
 * recorded rather than run: no other table of the DataSource is
 * touched and `synchronize` is not needed. Foreign keys are left out (the
 * schema builder adds them in a later pass, across entities). TypeORM's own
 * bookkeeping rows (`typeorm_metadata`, for generated columns) are left out
 * too: they are for its synchronize, which does not manage these tables.
 */
export async function entityTableStatements(
  dataSource: DataSource,
  entities: readonly EntityClass[],
  schema: string,
): Promise<string[]> {
  if (entities.length === 0) return [];
  const { Table } = await import('typeorm');
  const runner = dataSource.createQueryRunner();
  try {
    runner.enableSqlMemory();
    for (const entity of entities) {
      const metadata = dataSource.getMetadata(entity);
      // An owned many-to-many relation keeps its rows in a junction table.
      // (Read from `relations`: `ownerManyToManyRelations` came out empty on
      // TypeORM 1.1 where `relations` had the owning side.)
      const junctions = metadata.relations.flatMap((relation) =>
        relation.isManyToManyOwner && relation.junctionEntityMetadata
          ? [relation.junctionEntityMetadata]
          : [],
      );
      for (const each of [metadata, ...junctions]) {
        const table = Table.create(each, dataSource.driver);
        table.schema = schema;
        table.name = `${schema}.${each.tableName}`;
        // Not "if not exists": that would ask the database; a table already
        // there is passed over when the statements run.
        await runner.createTable(table, false, false, true);
      }
    }
    return runner
      .getMemorySql()
      .upQueries.filter((q) => !/^\s*INSERT\b/i.test(q.query))
      .map((q) => q.query);
  } finally {
    runner.disableSqlMemory();
    await runner.release();
  }
}
