import type { SqlClient, StoreSchema } from '../../store/index.js';
import { KeyStore, type StoredDataKey } from './key-store.js';

// The table comes with migration 0018 (store/postgres/migrations).
const COLUMNS = 'subject_id, key_id::text AS key_id, key';

const bySubjectsSql = (s: StoreSchema) => `
  SELECT ${COLUMNS} FROM ${s.table('personal_data_keys')}
  WHERE subject_id = ANY ($1::text::text[])`;

const byIdsSql = (s: StoreSchema) => `
  SELECT ${COLUMNS} FROM ${s.table('personal_data_keys')}
  WHERE key_id = ANY ($1::text::uuid[])`;

// Inserted, or the row a concurrent writer inserted first: one statement.
const createSql = (s: StoreSchema) => `
  WITH inserted AS (
    INSERT INTO ${s.table('personal_data_keys')} (subject_id, key_id, key)
    VALUES ($1::text, $2::text::uuid, $3::text)
    ON CONFLICT (subject_id) DO NOTHING
    RETURNING ${COLUMNS}
  )
  SELECT * FROM inserted
  UNION ALL
  SELECT ${COLUMNS} FROM ${s.table('personal_data_keys')} WHERE subject_id = $1::text
  LIMIT 1`;

// Several subjects at once; the subjects whose row a concurrent writer
// committed after this statement's snapshot come back from neither part.
const createManySql = (s: StoreSchema) => `
  WITH inserted AS (
    INSERT INTO ${s.table('personal_data_keys')} (subject_id, key_id, key)
    SELECT * FROM unnest($1::text::text[], $2::text::uuid[], $3::text::text[])
    ON CONFLICT (subject_id) DO NOTHING
    RETURNING ${COLUMNS}
  )
  SELECT * FROM inserted
  UNION ALL
  SELECT ${COLUMNS} FROM ${s.table('personal_data_keys')}
  WHERE subject_id = ANY ($1::text::text[])
    AND subject_id NOT IN (SELECT subject_id FROM inserted)`;

const forgetSql = (s: StoreSchema) => `
  DELETE FROM ${s.table('personal_data_keys')} WHERE subject_id = $1::text
  RETURNING key_id::text AS key_id`;

interface KeyRow {
  subject_id: string;
  key_id: string;
  key: string;
}

const toKey = (row: KeyRow): StoredDataKey => ({
  subjectId: row.subject_id,
  keyId: row.key_id,
  key: row.key,
});

/** A text[] literal, each element quoted (ids may hold any character). */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/** Data keys in the store's `personal_data_keys` table (node-postgres or PGlite). */
export class PostgresKeyStore extends KeyStore {
  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
  ) {
    super();
  }

  async findBySubjects(
    subjectIds: readonly string[],
    within: SqlClient = this.client,
  ): Promise<StoredDataKey[]> {
    const rows = await within.query<KeyRow>(
      this.schema.sql(bySubjectsSql),
      [textArray(subjectIds)],
      { prepare: true },
    );
    return rows.map(toKey);
  }

  async findByIds(
    keyIds: readonly string[],
    within: SqlClient = this.client,
  ): Promise<StoredDataKey[]> {
    const rows = await within.query<KeyRow>(
      this.schema.sql(byIdsSql),
      [textArray(keyIds)],
      { prepare: true },
    );
    return rows.map(toKey);
  }

  async create(
    key: StoredDataKey,
    within: SqlClient = this.client,
  ): Promise<StoredDataKey> {
    const rows = await within.query<KeyRow>(
      this.schema.sql(createSql),
      [key.subjectId, key.keyId, key.key],
      { prepare: true },
    );
    if (rows[0]) return toKey(rows[0]);
    // A concurrent writer's row committed after this statement's snapshot.
    const [winner] = await this.findBySubjects([key.subjectId], within);
    return winner;
  }

  override async createMany(
    keys: readonly StoredDataKey[],
    within: SqlClient = this.client,
  ): Promise<StoredDataKey[]> {
    if (keys.length === 1) return [await this.create(keys[0], within)];
    const rows = await within.query<KeyRow>(
      this.schema.sql(createManySql),
      [
        textArray(keys.map((k) => k.subjectId)),
        textArray(keys.map((k) => k.keyId)),
        textArray(keys.map((k) => k.key)),
      ],
      { prepare: true },
    );
    const stored = rows.map(toKey);
    if (stored.length < keys.length) {
      const have = new Set(stored.map((k) => k.subjectId));
      const late = keys.filter((k) => !have.has(k.subjectId));
      stored.push(
        ...(await this.findBySubjects(
          late.map((k) => k.subjectId),
          within,
        )),
      );
    }
    return stored;
  }

  async forget(
    subjectId: string,
    within: SqlClient = this.client,
  ): Promise<string | undefined> {
    const rows = await within.query<{ key_id: string }>(
      this.schema.sql(forgetSql),
      [subjectId],
    );
    return rows[0]?.key_id;
  }
}
