import { checkSchemaName } from './postgres/store-schema.js';
import type { SqlClient } from './postgres/sql-client.js';
import { StoreConfigurationError } from './store.errors.js';

/** The database settings that decide where an app's projection tables go. */
export interface ProjectionSchemaSettings {
  /** The schema of Chronicle's tables, as configured (else `CHRONICLE_SCHEMA`, else `chronicle`). */
  readonly schema?: string;
  readonly projectionSchema?: string;
  readonly client?: SqlClient;
}

/**
 * The schema an app's own SQL runs in: `projectionSchema`, else
 * `CHRONICLE_PROJECTION_SCHEMA`, else `<store schema>_projections`, so the
 * projections sit beside the consumer positions they go with, and a table of
 * the app's never meets one of Chronicle's. Undefined for a client handed in:
 * its search_path is its owner's choice.
 */
export function projectionSchemaFor(
  settings: ProjectionSchemaSettings = {},
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (settings.client) {
    if (settings.projectionSchema !== undefined) {
      throw new StoreConfigurationError(
        `database.projectionSchema ("${settings.projectionSchema}") applies to the connections Chronicle opens, and ` +
          'database.client is yours: set the search_path on your own pool instead (node-postgres: ' +
          `options: '-c search_path=${settings.projectionSchema},public'; PGlite: SET search_path), or leave projectionSchema out.`,
      );
    }
    return undefined;
  }
  const store = settings.schema ?? env.CHRONICLE_SCHEMA ?? 'chronicle';
  const explicit = settings.projectionSchema ?? env.CHRONICLE_PROJECTION_SCHEMA;
  const name = explicit ?? `${store}_projections`;
  checkSchemaName(
    name,
    explicit === undefined
      ? `The projection schema derived from schema "${store}" (set database.projectionSchema to a shorter name)`
      : 'Projection schema',
  );
  if (name === store) {
    throw new StoreConfigurationError(
      `The projection schema "${name}" is Chronicle's own schema: an app table named like one of Chronicle's ` +
        "(events, snapshots, schedules...) would be Chronicle's. Choose another database.projectionSchema.",
    );
  }
  return name;
}
