import type { SqlParameter } from '../store/index.js';
import type { CollectionDefinition } from './collection-definition.js';
import { InvalidSearchError } from './documents.errors.js';
import { jsonAt } from './field-path.js';
import {
  DEFAULT_LIMIT,
  type SearchFilter,
  type SearchSpec,
} from './search-spec.js';

/** One statement: its text and its parameters, values always as parameters. */
export interface Statement {
  readonly text: string;
  readonly params: SqlParameter[];
}

/** Where a page ended: the last row's sort key and id, and which sort it belongs to. */
interface Cursor {
  readonly s: string;
  readonly v: string | null;
  readonly id: string;
}

const COLUMNS = 'id, revision, body, created_at, updated_at';

/** Builds the parameters of one statement: `add(value)` returns its `$n`. */
class Params {
  readonly values: SqlParameter[] = [];
  add(value: SqlParameter): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The WHERE conditions of a search's match and filters (without paging). */
function conditions(
  collection: CollectionDefinition,
  spec: SearchSpec,
  params: Params,
  query?: string,
): string[] {
  const where: string[] = [];
  if (spec.match !== undefined) where.push(`search @@ ${query}`);
  for (const filter of spec.filters) where.push(condition(filter, params));
  return where;
}

/** The WHERE clause (or nothing) of the documents a count, facet or delete is about. */
function matching(
  collection: CollectionDefinition,
  spec: SearchSpec,
): { params: Params; where: string } {
  const params = new Params();
  const where = conditions(
    collection,
    spec,
    params,
    tsquery(collection, spec, params),
  );
  return {
    params,
    where: where.length ? ` WHERE ${where.join(' AND ')}` : '',
  };
}

function condition(filter: SearchFilter, params: Params): string {
  const at = jsonAt(filter.path);
  const json = (value: unknown) =>
    `${params.add(JSON.stringify(value))}::jsonb`;
  switch (filter.op) {
    case 'eq':
      return filter.value === null
        ? `${at} = 'null'::jsonb`
        : `${at} = ${json(filter.value)}`;
    case 'in':
      return `${at} IN (${filter.values.map(json).join(', ')})`;
    case 'between': {
      const parts: string[] = [];
      if (filter.from !== undefined)
        parts.push(`${at} >= ${json(filter.from)}`);
      if (filter.to !== undefined) parts.push(`${at} <= ${json(filter.to)}`);
      // jsonb orders values by type first (null < strings < numbers <
      // booleans < arrays < objects): two bounds of one type hold only that
      // type between them, an open end needs the type checked. Only then:
      // the planner cannot estimate the check, and misjudges what follows.
      if (filter.from === undefined || filter.to === undefined) {
        const bound = filter.from ?? filter.to;
        const type =
          typeof bound === 'number'
            ? 'number'
            : typeof bound === 'boolean'
              ? 'boolean'
              : 'string';
        parts.unshift(`jsonb_typeof(${at}) = '${type}'`);
      }
      return parts.join(' AND ');
    }
    case 'exists':
      return `${at} IS NOT NULL`;
    case 'contains':
      return `${at} @> ${json(filter.value)}`;
  }
}

/** The tsquery of a match, in the collection's language. */
function tsquery(
  collection: CollectionDefinition,
  spec: SearchSpec,
  params: Params,
): string | undefined {
  if (spec.match === undefined) return undefined;
  if (!collection.searchExpression) {
    throw new InvalidSearchError(
      `Collection "${collection.name}" declares no text fields to match: add text: [...] to its @Document declaration.`,
    );
  }
  return `websearch_to_tsquery('${collection.language}'::regconfig, ${params.add(spec.match)})`;
}

/** The sort a spec asks for, made explicit: rank when matching, else the id. */
function sortOf(spec: SearchSpec): {
  key?: string;
  rank: boolean;
  desc: boolean;
  signature: string;
} {
  const sort =
    spec.sort ??
    (spec.match !== undefined ? { by: 'rank' as const } : undefined);
  if (!sort) return { rank: false, desc: false, signature: 'id' };
  if (sort.by === 'rank')
    return { rank: true, desc: true, signature: `rank:${spec.match}` };
  return {
    key: jsonAt(sort.path),
    rank: false,
    desc: sort.direction === 'desc',
    signature: `${sort.path}:${sort.direction}`,
  };
}

/** One page: rows in sort order, one more than the limit to know whether there is a next page. */
export function pageStatement(
  collection: CollectionDefinition,
  spec: SearchSpec,
): Statement & { signature: string; limit: number; byRank: boolean } {
  const params = new Params();
  const query = tsquery(collection, spec, params);
  const where = conditions(collection, spec, params, query);
  const sort = sortOf(spec);
  const rank = query ? `ts_rank(search, ${query})` : undefined;
  // A field's sort key as jsonb text, for the cursor (it reads back exactly);
  // the rank is read from its own column, so ts_rank runs once per row.
  const key = sort.key && !sort.rank ? `, ${sort.key}::text AS sort_key` : '';
  const cursor =
    spec.after === undefined
      ? undefined
      : decodeCursor(spec.after, sort.signature);
  if (cursor) where.push(keyset(sort, rank, cursor, params));
  const direction = sort.desc ? 'DESC' : 'ASC';
  const order = sort.rank
    ? `${rank} DESC, id DESC`
    : sort.key
      ? `${sort.key} ${direction}, id ${direction}`
      : 'id ASC';
  const limit = spec.limit ?? DEFAULT_LIMIT;
  const text =
    `SELECT ${COLUMNS}${key}${rank ? `, ${rank} AS rank` : ''} FROM ${collection.table}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${order} LIMIT ${params.add(limit + 1)}`;
  return {
    text,
    params: params.values,
    signature: sort.signature,
    limit,
    byRank: sort.rank,
  };
}

/**
 * The rows after the cursor in the sort's order. Ascending puts documents
 * without the field last, descending first (PostgreSQL's defaults, which a
 * btree on (path, id) reads in order either way).
 */
function keyset(
  sort: ReturnType<typeof sortOf>,
  rank: string | undefined,
  cursor: Cursor,
  params: Params,
): string {
  const id = params.add(cursor.id);
  if (sort.rank)
    return `(${rank}, id) < (${params.add(cursor.v)}::real, ${id})`;
  if (!sort.key) return `id > ${id}`;
  const key = sort.key;
  if (!sort.desc) {
    if (cursor.v === null) return `(${key} IS NULL AND id > ${id})`;
    return `((${key}, id) > (${params.add(cursor.v)}::jsonb, ${id}) OR ${key} IS NULL)`;
  }
  if (cursor.v === null)
    return `((${key} IS NULL AND id < ${id}) OR ${key} IS NOT NULL)`;
  return `(${key}, id) < (${params.add(cursor.v)}::jsonb, ${id})`;
}

export function encodeCursor(
  signature: string,
  sortKey: string | null,
  id: string,
): string {
  const cursor: Cursor = { s: signature, v: sortKey, id };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string, signature: string): Cursor {
  let cursor: Partial<Cursor> | undefined;
  try {
    cursor = JSON.parse(
      Buffer.from(text, 'base64url').toString('utf8'),
    ) as Partial<Cursor>;
  } catch {
    cursor = undefined;
  }
  if (
    !cursor ||
    typeof cursor.s !== 'string' ||
    typeof cursor.id !== 'string' ||
    (cursor.v !== null && typeof cursor.v !== 'string')
  ) {
    throw new InvalidSearchError(
      'The cursor is not one a page of this search returned: pass the `next` of the previous page as it is.',
    );
  }
  if (cursor.s !== signature) {
    throw new InvalidSearchError(
      'The cursor belongs to a search sorted another way: page with the same sort (and match, when sorting by rank) as the page that returned it.',
    );
  }
  return cursor as Cursor;
}

/** How many documents match. */
export function countStatement(
  collection: CollectionDefinition,
  spec: SearchSpec,
): Statement {
  const { params, where } = matching(collection, spec);
  return {
    text: `SELECT count(*)::int AS count FROM ${collection.table}${where}`,
    params: params.values,
  };
}

/**
 * How many matching documents hold each value of a field, most first. An
 * array counts per element: a document counts once for each distinct
 * element it holds (as search engines' term facets do), a scalar as its
 * value; a missing field, a null and an empty array count as null (no
 * value). The matching documents are first counted per whole value (one
 * pass, one hash, as for a scalar field), then only those few distinct
 * values are split into their elements: a scalar field costs what it did.
 */
export function facetStatement(
  collection: CollectionDefinition,
  spec: SearchSpec,
  path: string,
  limit: number,
): Statement {
  const { params, where } = matching(collection, spec);
  const at = `coalesce(${jsonAt(path)}, 'null'::jsonb)`;
  const elements =
    `CASE WHEN jsonb_typeof(whole.value) <> 'array' THEN jsonb_build_array(whole.value)` +
    ` WHEN whole.value = '[]'::jsonb THEN '[null]'::jsonb ELSE whole.value END`;
  return {
    text:
      `SELECT element.value, sum(whole.count)::int AS count FROM (` +
      `SELECT ${at} AS value, count(*) AS count FROM ${collection.table}${where}` +
      ` GROUP BY 1) whole CROSS JOIN LATERAL (SELECT DISTINCT e AS value FROM jsonb_array_elements(${elements}) e) element` +
      ` GROUP BY 1 ORDER BY 2 DESC, 1 ASC LIMIT ${params.add(limit)}`,
    params: params.values,
  };
}

/** Deletes the matching documents; the count of them comes back. */
export function deleteStatement(
  collection: CollectionDefinition,
  spec: SearchSpec,
): Statement {
  const { params, where } = matching(collection, spec);
  return {
    text:
      `WITH deleted AS (DELETE FROM ${collection.table}${where} RETURNING 1) ` +
      'SELECT count(*)::int AS count FROM deleted',
    params: params.values,
  };
}

export { COLUMNS };
