import { checkId } from '../../messages/index.js';
import type { SqlClient, StoreSchema } from '../../store/index.js';
import { recordForgotten } from './forgotten-subjects.js';
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
 * Forgets a subject on the store's database, in one transaction: deletes its
 * key, then the snapshots of the streams that held its sealed fields (they
 * keep decrypted state), records it in `forgotten_subjects` (for apps that
 * keep copies, such as documents, and were not running) and announces it
 * on commit, so that every process drops the key and its cached aggregates.
 * A `KeyStore` outside the database deletes the key at once, last but the
 * record: if the KMS refuses, nothing is done; if the transaction fails after
 * it, this throws and nothing is recorded; run it again.
 * `PersonalDataService` and `chronicle forget-subject` run it.
 */
export async function forgetSubject(
  client: SqlClient,
  schema: StoreSchema,
  subjectId: string,
  keys: KeyStore = new PostgresKeyStore(client, schema),
): Promise<ForgetReport> {
  checkId(subjectId, 'subject id');
  return client.transaction(async (tx) => {
    const [known] = await keys.findBySubjects([subjectId], tx);
    const streams = known ? await dropSnapshots(tx, schema, known.keyId) : [];
    // The key goes after the work that may fail: a KeyStore outside the
    // database (a KMS) cannot roll back, so only the record and the commit
    // can fail after it.
    const keyId = await keys.forget(subjectId, tx);
    if (keyId !== undefined && keyId !== known?.keyId) {
      // Made by a concurrent first append after the look-up.
      streams.push(...(await dropSnapshots(tx, schema, keyId)));
    }
    // Without a key it is recorded and announced all the same: copies kept
    // outside the events (documents written by commands) may hold the
    // subject's data without one.
    await recordForgotten(tx, schema, subjectId);
    // A NOTIFY in a transaction is delivered when it commits.
    await announce(tx, schema, subjectId);
    return { forgotten: keyId !== undefined, streams };
  });
}

/** Deletes the snapshots of the streams holding the key's ciphertexts; returns those streams. */
async function dropSnapshots(
  tx: SqlClient,
  schema: StoreSchema,
  keyId: string,
): Promise<string[]> {
  const rows = await tx.query<{ stream_id: string }>(schema.sql(streamsSql), [
    `v1.${keyId}.`,
  ]);
  const streams = rows.map((r) => r.stream_id);
  if (streams.length > 0) {
    await tx.query(schema.sql(dropSnapshotsSql), [
      `{${streams.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,
    ]);
  }
  return streams;
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
