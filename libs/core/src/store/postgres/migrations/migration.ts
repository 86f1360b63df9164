import type { StoreSchema } from '../store-schema.js';

/** One versioned, forward-only change to the store's schema. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL script; it runs in the migration transaction. */
  sql(schema: StoreSchema): string;
}
