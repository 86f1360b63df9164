import {
  SQL_CLIENT,
  typeOrmConnectionOptions,
  type SqlClient,
} from '@chronicle/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { StockLevel } from './stock-level.entity.js';

/**
 * TypeORM on Chronicle's own database, whichever it is (PostgreSQL, or the
 * embedded PGlite), with the read model in its own schema (`INVENTORY_SCHEMA`,
 * default `inventory`). `synchronize` keeps the example short; a real app
 * would run migrations.
 */
export function inventoryTypeOrm(
  schema = process.env.INVENTORY_SCHEMA ?? 'inventory',
) {
  return TypeOrmModule.forRootAsync({
    inject: [SQL_CLIENT],
    useFactory: async (client: SqlClient) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema))
        throw new Error(
          `INVENTORY_SCHEMA "${schema}" is not a plain lower-case SQL name (letters, digits, _)`,
        );
      await client.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      return {
        ...typeOrmConnectionOptions(client),
        schema,
        entities: [StockLevel],
        synchronize: true,
      };
    },
  });
}
