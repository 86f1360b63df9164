import { checkId } from '../../messages/index.js';
import type { SqlClient, StoreSchema } from '../../store/index.js';
import type { KeyStore } from './key-store.js';
import { PostgresKeyStore } from './postgres-key-store.js';

/** What forgetting a subject did. */
export interface ForgetReport {
  /** Whether the subject had a key (and so data) to forget. */
  readonly forgotten: boolean;
  /** The streams that held the subject's sealed fields; their snapshots were deleted. */
  readonly streams: readonly string[];
}

// Streams holding a key id's ciphertexts: a scan of the log, paid only on forget.
const streamsSql = (s: StoreSchema) => `
  SELECT DISTINCT stream_id FROM ${s.events}
  WHERE payload::text LIKE '%' || $1::text || '%'`;

const dropSnapshotsSql = (s: StoreSchema) => `
  DELETE FROM ${s.table('snapshots')} WHERE stream_id = ANY ($1::text::text[])`;

/** The channel on which a forgotten subject's id is announced to every process. */
export const forgetChannel = (schema: StoreSchema): string =>
  `chronicle_forget_${schema.name}`;

/**
 * Forgets a subject on the store's database: deletes its key, then the
 * snapshots of the streams that held its sealed fields (they keep decrypted
 * state), and announces it so that every process drops the key and its
 * cached aggregates. `PersonalDataService` and `chronicle forget-subject` run it.
 */
export async function forgetSubject(
  client: SqlClient,
  schema: StoreSchema,
  subjectId: string,
  keys: KeyStore = new PostgresKeyStore(client, schema),
): Promise<ForgetReport> {
  checkId(subjectId, 'subject id');
  const keyId = await keys.forget(subjectId);
  if (keyId === undefined) {
    // Announced all the same: copies kept outside the events (documents
    // written by commands) may hold the subject's data without a key.
    await announce(client, schema, subjectId);
    return { forgotten: false, streams: [] };
  }
  const rows = await client.query<{ stream_id: string }>(
    schema.sql(streamsSql),
    [`v1.${keyId}.`],
  );
  const streams = rows.map((r) => r.stream_id);
  if (streams.length > 0) {
    await client.query(schema.sql(dropSnapshotsSql), [
      `{${streams.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,
    ]);
  }
  await announce(client, schema, subjectId);
  return { forgotten: true, streams };
}

async function announce(
  client: SqlClient,
  schema: StoreSchema,
  subjectId: string,
): Promise<void> {
  await client.query(`SELECT pg_notify($1::text, $2::text)`, [
    forgetChannel(schema),
    subjectId,
  ]);
}
