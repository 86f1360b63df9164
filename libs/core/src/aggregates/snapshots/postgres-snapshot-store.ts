import type { SqlClient, StoreSchema } from '../../store/index.js';
import {
  SnapshotStore,
  type SnapshotToWrite,
  type StoredSnapshot,
} from './snapshot-store.js';

// The table comes with migration 0004 (store/postgres/migrations).
const readSql = (s: StoreSchema) => `
  SELECT stream_version::text AS version, state FROM ${s.table('snapshots')}
  WHERE stream_id = $1::text AND revision = $2::int AND stream_version <= $3::bigint
  ORDER BY stream_version DESC LIMIT 1`;

// One statement: store the new snapshot and drop the stream's older ones, so a
// stream keeps one snapshot (time travel before it replays from the start).
const writeSql = (s: StoreSchema) => `
  WITH saved AS (
    INSERT INTO ${s.table('snapshots')} (stream_id, stream_version, aggregate_type, revision, state)
    VALUES ($1::text, $2::bigint, $3::text, $4::int, $5::text::jsonb)
    ON CONFLICT (stream_id, stream_version) DO UPDATE
      SET revision = excluded.revision, state = excluded.state, created_at = now()
    RETURNING stream_id
  )
  DELETE FROM ${s.table('snapshots')}
  WHERE stream_id = $1::text AND stream_version < $2::bigint`;

/** Snapshots in the store's `snapshots` table (node-postgres or PGlite). */
export class PostgresSnapshotStore extends SnapshotStore {
  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
  ) {
    super();
  }

  async read(
    streamId: string,
    revision: number,
    atVersion = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredSnapshot | undefined> {
    const rows = await this.client.query<{ version: string; state: unknown }>(
      this.schema.sql(readSql),
      [streamId, revision, atVersion],
      { prepare: true },
    );
    if (rows.length === 0) return undefined;
    return { version: Number(rows[0].version), state: rows[0].state };
  }

  async write(snapshot: SnapshotToWrite): Promise<void> {
    await this.client.query(
      this.schema.sql(writeSql),
      [
        snapshot.streamId,
        snapshot.version,
        snapshot.aggregateType,
        snapshot.revision,
        snapshot.stateJson,
      ],
      { prepare: true },
    );
  }
}
