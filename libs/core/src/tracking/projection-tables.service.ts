import { Inject, Injectable } from '@nestjs/common';
import {
  SQL_CLIENT,
  sqlStateOf,
  type SqlClient,
  type SqlParameter,
} from '../store/index.js';
import { setSearchPath } from './projection-tables.js';
import { TrackingService } from './tracking.service.js';

/** PostgreSQL: no such table (in the search_path). */
const UNDEFINED_TABLE = '42P01';

/**
 * The query side of consumers' declared tables: where they are, and reads
 * that find them by their unqualified names. Reads must ask here rather than
 * name a schema: the schema follows the app's (and a test fixture's)
 * projection schema, and the consumer's live version.
 */
@Injectable()
export class ProjectionTables {
  constructor(
    private readonly tracking: TrackingService,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
  ) {}

  /** The schema that holds the consumer's tables now. */
  async schemaOf(consumer: string): Promise<string> {
    return this.tracking.schemaOf(consumer);
  }

  /** `"<schema>"."<table>"`: one of the consumer's tables, for SQL text. */
  async table(consumer: string, table: string): Promise<string> {
    return `"${await this.schemaOf(consumer)}"."${table.replace(/"/g, '""')}"`;
  }

  /**
   * Runs one statement with the consumer's schema first in its search_path
   * (in a transaction of its own, whose SET LOCAL ends with it).
   */
  async query<R extends object = Record<string, unknown>>(
    consumer: string,
    text: string,
    params?: readonly SqlParameter[],
  ): Promise<R[]> {
    const schema = await this.schemaOf(consumer);
    try {
      return await this.read<R>(schema, text, params);
    } catch (error) {
      // A blue-green switch may retire and drop (after its grace) the schema
      // looked up, before the read runs there: read the live one instead.
      if (sqlStateOf(error) !== UNDEFINED_TABLE) throw error;
      const live = await this.schemaOf(consumer);
      if (live === schema) throw error;
      return this.read<R>(live, text, params);
    }
  }

  private read<R extends object>(
    schema: string,
    text: string,
    params?: readonly SqlParameter[],
  ): Promise<R[]> {
    return this.client.transaction(async (tx) => {
      await setSearchPath(tx, schema);
      return tx.query<R>(text, params);
    });
  }
}
