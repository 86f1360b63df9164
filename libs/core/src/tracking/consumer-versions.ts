import type { Checkpoint, SqlClient, StoreSchema } from '../store/index.js';

/** Where a consumer version stands (see migration 13). */
export type VersionStatus = 'building' | 'live' | 'retired';

/**
 * The name a consumer version's positions are kept under: the consumer's own
 * name for version 1 (as before versions existed), `<name>@v<n>` after.
 */
export function trackedName(consumer: string, version: number): string {
  return version === 1 ? consumer : `${consumer}@v${version}`;
}

export interface VersionRow {
  readonly version: number;
  readonly schema: string;
  readonly status: VersionStatus;
  readonly createdAt: Date;
}

/** Instances starting together take turns registering a consumer's versions. */
const VERSIONS_LOCK = 0x43_48_56_53; // "CHVS"

const table = (s: StoreSchema) => s.table('consumer_versions');

async function versionRows(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<VersionRow[]> {
  const rows = await client.query<{
    version: number;
    schema_name: string;
    status: VersionStatus;
    created_ms: number;
  }>(
    `SELECT version, schema_name, status,
       (extract(epoch FROM created_at) * 1000)::float8 AS created_ms
     FROM ${table(s)} WHERE consumer = $1::text ORDER BY version`,
    [consumer],
  );
  return rows.map((r) => ({
    version: Number(r.version),
    schema: r.schema_name,
    status: r.status,
    createdAt: new Date(Number(r.created_ms)),
  }));
}

/**
 * Records this process's version of a consumer and says where it stands. The
 * first version seen is live. A higher one is built beside the live one;
 * a lower one than the live one is retired (an instance of an older deploy).
 * A consumer first seen at a version above 1 whose version 1 already has
 * positions (it ran before versions were recorded) gets version 1 as live.
 */
export async function registerVersion(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  version: number,
  schemaOf: (version: number) => string,
): Promise<VersionRow[]> {
  return client.transaction(async (tx) => {
    await tx.query(
      'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      [VERSIONS_LOCK, `${s.name}.${consumer}`],
    );
    const rows = await versionRows(tx, s, consumer);
    if (rows.some((r) => r.version === version)) return rows;
    let live = rows.find((r) => r.status === 'live');
    if (!live && version > 1 && rows.length === 0) {
      const ran = await tx.query(
        `SELECT 1 FROM ${s.table('consumer_positions')} WHERE consumer = $1::text LIMIT 1`,
        [consumer],
      );
      if (ran.length > 0) {
        await insert(tx, s, consumer, 1, schemaOf(1), 'live');
        live = {
          version: 1,
          schema: schemaOf(1),
          status: 'live',
          createdAt: new Date(),
        };
      }
    }
    const status: VersionStatus = !live
      ? 'live'
      : live.version < version
        ? 'building'
        : 'retired';
    await insert(tx, s, consumer, version, schemaOf(version), status);
    return versionRows(tx, s, consumer);
  });
}

async function insert(
  tx: SqlClient,
  s: StoreSchema,
  consumer: string,
  version: number,
  schema: string,
  status: VersionStatus,
): Promise<void> {
  await tx.query(
    `INSERT INTO ${table(s)} (consumer, version, schema_name, status, switched_at)
     VALUES ($1::text, $2::int, $3::text, $4::text, CASE WHEN $4::text = 'live' THEN now() END)`,
    [consumer, version, schema, status],
  );
}

/** Every version of a consumer, oldest first. */
export function readVersions(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<VersionRow[]> {
  return versionRows(client, s, consumer);
}

/** The schema reads go to: the live version's. */
export async function liveSchema(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<string | undefined> {
  const rows = await client.query<{ schema_name: string }>(
    `SELECT schema_name FROM ${table(s)} WHERE consumer = $1::text AND status = 'live'`,
    [consumer],
  );
  return rows[0]?.schema_name;
}

/**
 * Makes `version` live and retires the live one, in one transaction, so a
 * read sees one or the other, never neither; the retired schema may be
 * dropped after `graceMs`. Only from 'building': false when another instance
 * switched first.
 */
export async function switchVersion(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
  version: number,
  graceMs: number,
): Promise<boolean> {
  return client.transaction(async (tx) => {
    const rows = await tx.query(
      `SELECT version FROM ${table(s)} WHERE consumer = $1::text AND version = $2::int
         AND status = 'building' FOR UPDATE`,
      [consumer, version],
    );
    if (rows.length === 0) return false;
    await tx.query(
      `UPDATE ${table(s)} SET status = 'retired',
         drop_after = now() + make_interval(secs => $2::float8 / 1000)
       WHERE consumer = $1::text AND status = 'live'`,
      [consumer, graceMs],
    );
    await tx.query(
      `UPDATE ${table(s)} SET status = 'live', switched_at = now()
       WHERE consumer = $1::text AND version = $2::int`,
      [consumer, version],
    );
    return true;
  });
}

/**
 * Drops the schemas and positions of retired versions whose grace period
 * has passed (one instance does each: the row is claimed with SKIP LOCKED).
 * Returns the schemas dropped.
 */
export async function dropRetired(
  client: SqlClient,
  s: StoreSchema,
  consumer: string,
): Promise<string[]> {
  return client.transaction(async (tx) => {
    const rows = await tx.query<{ version: number; schema_name: string }>(
      `SELECT version, schema_name FROM ${table(s)}
       WHERE consumer = $1::text AND status = 'retired' AND dropped_at IS NULL
         AND drop_after IS NOT NULL AND drop_after <= now()
       FOR UPDATE SKIP LOCKED`,
      [consumer],
    );
    for (const row of rows) {
      await tx.exec(`DROP SCHEMA IF EXISTS "${row.schema_name}" CASCADE`);
      await tx.query(
        `DELETE FROM ${s.table('consumer_positions')} WHERE consumer = $1::text`,
        [trackedName(consumer, Number(row.version))],
      );
      await tx.query(
        `UPDATE ${table(s)} SET dropped_at = now() WHERE consumer = $1::text AND version = $2::int`,
        [consumer, row.version],
      );
    }
    return rows.map((r) => r.schema_name);
  });
}

/**
 * The live version's lowest checkpoint: every event at or below it the live
 * version has handled (and sent what its handlers sent) in every segment.
 * Undefined when it has no positions.
 */
export async function liveCheckpoint(
  client: SqlClient,
  s: StoreSchema,
  trackedLive: string,
): Promise<Checkpoint | undefined> {
  const rows = await client.query<{ transaction_id: string; position: string }>(
    `SELECT transaction_id::text AS transaction_id, position::text AS position
     FROM ${s.table('consumer_positions')} WHERE consumer = $1::text
     ORDER BY transaction_id, position LIMIT 1`,
    [trackedLive],
  );
  return rows[0]
    ? {
        transactionId: BigInt(rows[0].transaction_id),
        position: BigInt(rows[0].position),
      }
    : undefined;
}
