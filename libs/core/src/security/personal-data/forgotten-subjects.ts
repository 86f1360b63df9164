import type { SqlClient, StoreSchema } from '../../store/index.js';

// The tables come with migration 0019 (store/postgres/migrations).

// Appenders take turns, each until it commits, so a row's seq is never
// below one committed before it: a watermark cannot pass a late commit.
// The mode conflicts with itself, not with readers.
const takeTurnSql = (s: StoreSchema) => `
  LOCK TABLE ${s.table('forgotten_subjects')} IN SHARE ROW EXCLUSIVE MODE`;

// forgotten_at is the clock when the row is written, the last statement
// before commit: a document written after the forget commits is later.
const recordSql = (s: StoreSchema) => `
  INSERT INTO ${s.table('forgotten_subjects')} (subject_id)
  VALUES ($1::text)`;

// Made if absent and locked until the caller's transaction ends: instances
// of one follower take turns, the second then sees the first's watermark.
const claimSql = (s: StoreSchema) => `
  INSERT INTO ${s.table('forgotten_subjects_followers')} AS f (follower)
  VALUES ($1::text)
  ON CONFLICT (follower) DO UPDATE SET follower = f.follower
  RETURNING seq::text AS seq`;

const upToSql = (s: StoreSchema) => `
  SELECT max(seq)::text AS up_to FROM ${s.table('forgotten_subjects')}
  WHERE seq > $1::bigint`;

const advanceSql = (s: StoreSchema) => `
  UPDATE ${s.table('forgotten_subjects_followers')}
  SET seq = $2::bigint, applied_at = now()
  WHERE follower = $1::text`;

/**
 * Records that `subjectId` was forgotten, in the caller's transaction (the
 * one deleting the key), as its last write: it holds the table's lock until
 * it commits.
 */
export async function recordForgotten(
  tx: SqlClient,
  schema: StoreSchema,
  subjectId: string,
): Promise<void> {
  await tx.query(schema.sql(takeTurnSql));
  await tx.query(schema.sql(recordSql), [subjectId]);
}

/** Recorded forgets a follower has not applied yet. */
export interface RecordedForgets {
  /** The last one applied before (0 for none) and the last one of these. */
  readonly after: string;
  readonly upTo: string;
  /**
   * A SELECT of `(subject_id text, forgotten_at timestamptz)`, one row per
   * subject at its latest forget among these, to join in a statement of
   * the same transaction. It takes no parameters.
   */
  readonly subjectsSql: string;
}

/**
 * Applies the forgets recorded after `follower`'s watermark and moves the
 * watermark past them, in one transaction: a crash half-way applies them
 * again (so `apply` must be idempotent), and instances of one follower
 * take turns on its row. Resolves to what `apply` returned, or undefined
 * when there was nothing new.
 */
export async function followForgotten<T>(
  client: SqlClient,
  schema: StoreSchema,
  follower: string,
  apply: (tx: SqlClient, forgets: RecordedForgets) => Promise<T>,
): Promise<T | undefined> {
  return client.transaction(async (tx) => {
    const [{ seq: after }] = await tx.query<{ seq: string }>(
      schema.sql(claimSql),
      [follower],
    );
    const [{ up_to: upTo }] = await tx.query<{ up_to: string | null }>(
      schema.sql(upToSql),
      [after],
    );
    if (upTo === null) return undefined;
    const result = await apply(tx, {
      after,
      upTo,
      subjectsSql: subjectsBetween(schema, after, upTo),
    });
    await tx.query(schema.sql(advanceSql), [follower, upTo]);
    return result;
  });
}

/** The window's bounds come from the database as bigint text: checked, then inlined. */
function subjectsBetween(
  schema: StoreSchema,
  after: string,
  upTo: string,
): string {
  for (const bound of [after, upTo]) {
    if (!/^\d{1,19}$/.test(bound)) {
      throw new Error(`A forgotten_subjects seq must be a bigint: ${bound}`);
    }
  }
  return `SELECT subject_id, max(forgotten_at) AS forgotten_at
    FROM ${schema.table('forgotten_subjects')}
    WHERE seq > ${after} AND seq <= ${upTo}
    GROUP BY subject_id`;
}
