import type { RecordedForgets } from '../security/personal-data/index.js';
import type { SqlClient } from '../store/index.js';
import type { CollectionDefinition } from './collection-definition.js';
import type { StoredDocument } from './document-types.js';
import { DocumentConflictError, type Revision } from './documents.errors.js';
import { jsonAt } from './field-path.js';
import { COLUMNS } from './search-sql.js';

export interface DocumentRow {
  readonly id: string;
  readonly revision: number;
  readonly body: unknown;
  readonly created_at: Date | string;
  readonly updated_at: Date | string;
}

/**
 * Writes a document in one statement, the revision check in the database:
 * an upsert without `expected`, an insert that must not find one with
 * `'absent'`, an update of that revision with a number. Resolves to the new
 * revision; a failed check throws `DocumentConflictError` with what is there.
 */
export async function writeDocument(
  sql: SqlClient,
  collection: CollectionDefinition,
  id: string,
  body: string,
  expected: Revision | undefined,
): Promise<number> {
  const { table } = collection;
  let rows: { revision: number }[];
  if (expected === undefined) {
    rows = await sql.query(
      `INSERT INTO ${table} AS d (id, revision, body) VALUES ($1, 1, $2::jsonb)
        ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, revision = d.revision + 1, updated_at = now()
        RETURNING revision`,
      [id, body],
    );
  } else if (expected === 'absent') {
    rows = await sql.query(
      `INSERT INTO ${table} (id, revision, body) VALUES ($1, 1, $2::jsonb)
        ON CONFLICT (id) DO NOTHING RETURNING revision`,
      [id, body],
    );
  } else {
    rows = await sql.query(
      `UPDATE ${table} SET body = $2::jsonb, revision = revision + 1, updated_at = now()
        WHERE id = $1 AND revision = $3 RETURNING revision`,
      [id, body, expected],
    );
  }
  if (rows.length > 0) return rows[0].revision;
  throw await conflict(sql, collection, id, expected ?? 'absent');
}

/** Deletes a document (of that revision, with `expected`); resolves to whether there was one. */
export async function deleteDocument(
  sql: SqlClient,
  collection: CollectionDefinition,
  id: string,
  expected: Revision | undefined,
): Promise<boolean> {
  if (expected === 'absent') {
    const actual = await revisionOf(sql, collection, id);
    if (actual === 'absent') return false;
    throw new DocumentConflictError(collection.name, id, expected, actual);
  }
  const rows = await sql.query(
    `DELETE FROM ${collection.table} WHERE id = $1${expected === undefined ? '' : ' AND revision = $2'} RETURNING revision`,
    expected === undefined ? [id] : [id, expected],
  );
  if (rows.length > 0) return true;
  if (expected === undefined) return false;
  throw await conflict(sql, collection, id, expected);
}

async function conflict(
  sql: SqlClient,
  collection: CollectionDefinition,
  id: string,
  expected: Revision,
): Promise<DocumentConflictError> {
  const actual = await revisionOf(sql, collection, id);
  return new DocumentConflictError(collection.name, id, expected, actual);
}

async function revisionOf(
  sql: SqlClient,
  collection: CollectionDefinition,
  id: string,
): Promise<Revision> {
  const [row] = await sql.query<{ revision: number }>(
    `SELECT revision FROM ${collection.table} WHERE id = $1`,
    [id],
  );
  return row ? row.revision : 'absent';
}

export async function readDocuments(
  sql: SqlClient,
  collection: CollectionDefinition,
  ids: readonly string[],
): Promise<DocumentRow[]> {
  if (ids.length === 1) {
    return sql.query<DocumentRow>(
      `SELECT ${COLUMNS} FROM ${collection.table} WHERE id = $1`,
      [ids[0]],
    );
  }
  return sql.query<DocumentRow>(
    `SELECT ${COLUMNS} FROM ${collection.table}
      WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [JSON.stringify(ids)],
  );
}

/** A row as the document the caller reads: its body parsed (if a driver left it text) and its times as dates. */
export function documentOf<T>(
  collection: string,
  row: DocumentRow,
  make: (body: unknown) => T,
): StoredDocument<T> {
  const body =
    typeof row.body === 'string' ? (JSON.parse(row.body) as unknown) : row.body;
  return {
    collection,
    id: row.id,
    revision: row.revision,
    // The drivers make a Date of each row's own: no need for another.
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
    body: make(body),
  };
}

function asDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/**
 * Sets the personal fields of the subject's documents to their placeholders
 * (the generated search column follows), once: documents already holding the
 * placeholders are left alone, so every process hearing of it may run it.
 */
export async function forgetInCollection(
  sql: SqlClient,
  collection: CollectionDefinition,
  subjectId: string,
): Promise<number> {
  const personal = collection.personal;
  if (!personal) return 0;
  const placeholders = JSON.stringify(personal.placeholders);
  const rows = await sql.query<{ count: number }>(
    `WITH forgotten AS (
       UPDATE ${collection.table} SET body = body || $2::jsonb, revision = revision + 1, updated_at = now()
        WHERE ${jsonAt(personal.subject)} = to_jsonb($1::text) AND NOT body @> $2::jsonb
        RETURNING 1)
     SELECT count(*)::int AS count FROM forgotten`,
    [subjectId, placeholders],
  );
  return rows[0].count;
}

/**
 * `forgetInCollection` for every subject of a window of recorded forgets,
 * in one statement. Only documents written at or before their subject's
 * forget change (both times from the database's clock): a subject that came
 * back after it (new events, a new key) keeps its new documents, however
 * late the forget is applied. Resolves to how many documents changed.
 */
export async function forgetRecordedInCollection(
  sql: SqlClient,
  collection: CollectionDefinition,
  forgets: RecordedForgets,
): Promise<number> {
  const personal = collection.personal;
  if (!personal) return 0;
  const rows = await sql.query<{ count: number }>(
    `WITH subjects AS (${forgets.subjectsSql}),
     forgotten AS (
       UPDATE ${collection.table} AS d SET body = d.body || $1::jsonb, revision = d.revision + 1, updated_at = now()
         FROM subjects
        WHERE ${jsonAt(personal.subject)} = to_jsonb(subjects.subject_id)
          AND d.updated_at <= subjects.forgotten_at
          AND NOT d.body @> $1::jsonb
        RETURNING 1)
     SELECT count(*)::int AS count FROM forgotten`,
    [JSON.stringify(personal.placeholders)],
  );
  return rows[0].count;
}
