import { InvalidSearchError } from './documents.errors.js';
import { fieldPathSegments } from './field-path.js';

/** A JSON value, as stored in a document. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A single value a filter compares with; a Date is compared as the ISO text JSON makes of it. */
export type FilterValue = string | number | boolean | null | Date;

/** What a JSON filter value becomes once dates are text: what the spec (and the wire) carries. */
export type Scalar = string | number | boolean | null;

export type SearchFilter =
  | { readonly op: 'eq'; readonly path: string; readonly value: Scalar }
  | {
      readonly op: 'in';
      readonly path: string;
      readonly values: readonly Scalar[];
    }
  | {
      readonly op: 'between';
      readonly path: string;
      readonly from?: Scalar;
      readonly to?: Scalar;
    }
  | { readonly op: 'exists'; readonly path: string }
  | {
      readonly op: 'contains';
      readonly path: string;
      readonly value: JsonValue;
    };

export type SearchSort =
  | { readonly by: 'rank' }
  | {
      readonly by: 'field';
      readonly path: string;
      readonly direction: 'asc' | 'desc';
    };

/**
 * A search as plain JSON: what the query builder collects, and what a
 * `SearchDocuments` query carries to the app that owns the collection.
 */
export interface SearchSpec {
  readonly match?: string;
  readonly filters: readonly SearchFilter[];
  readonly sort?: SearchSort;
  readonly limit?: number;
  readonly after?: string;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
const MAX_IN = 1000;
const MAX_MATCH = 1000;

/** A filter value as the spec keeps it: dates as ISO text, everything else checked. */
export function scalarOf(value: FilterValue, path: string): Scalar {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new InvalidSearchError(
        `The date compared with "${path}" is invalid.`,
      );
    }
    return value.toISOString();
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InvalidSearchError(
      `The number compared with "${path}" is ${value}: JSON holds finite numbers only.`,
    );
  }
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  throw new InvalidSearchError(
    `"${path}" is compared with a ${typeof value}: use a string, number, boolean, null or Date (contains takes objects and arrays).`,
  );
}

/**
 * Checks a spec that came from anywhere (the builder, or the wire): every
 * path, operator, value and limit. Throws `InvalidSearchError` or
 * `InvalidFieldPathError` naming what is wrong.
 */
export function checkSearchSpec(spec: SearchSpec): SearchSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidSearchError('A search must be an object.');
  }
  if (spec.match !== undefined) {
    if (typeof spec.match !== 'string' || spec.match.length > MAX_MATCH) {
      throw new InvalidSearchError(
        `match must be text of at most ${MAX_MATCH} characters.`,
      );
    }
  }
  if (!Array.isArray(spec.filters)) {
    throw new InvalidSearchError('filters must be a list.');
  }
  for (const filter of spec.filters) checkFilter(filter);
  if (spec.sort !== undefined) {
    if (spec.sort.by === 'rank') {
      if (spec.match === undefined) {
        throw new InvalidSearchError(
          'Sorting by rank needs a text match: add match(...) or sort by a field.',
        );
      }
    } else if (spec.sort.by === 'field') {
      fieldPathSegments(spec.sort.path);
      if (spec.sort.direction !== 'asc' && spec.sort.direction !== 'desc') {
        throw new InvalidSearchError(
          `Sort direction "${String(spec.sort.direction)}" is neither asc nor desc.`,
        );
      }
    } else {
      throw new InvalidSearchError('sort.by must be "rank" or "field".');
    }
  }
  if (spec.limit !== undefined) {
    if (
      !Number.isInteger(spec.limit) ||
      spec.limit < 1 ||
      spec.limit > MAX_LIMIT
    ) {
      throw new InvalidSearchError(
        `limit is ${String(spec.limit)}: use a whole number from 1 to ${MAX_LIMIT}.`,
      );
    }
  }
  if (spec.after !== undefined && typeof spec.after !== 'string') {
    throw new InvalidSearchError(
      'after must be the cursor text a previous page returned.',
    );
  }
  return spec;
}

function checkFilter(filter: SearchFilter): void {
  if (typeof filter !== 'object' || filter === null) {
    throw new InvalidSearchError('Each filter must be an object.');
  }
  fieldPathSegments(filter.path);
  switch (filter.op) {
    case 'eq':
      scalarOf(filter.value, filter.path);
      return;
    case 'in':
      if (
        !Array.isArray(filter.values) ||
        filter.values.length === 0 ||
        filter.values.length > MAX_IN
      ) {
        throw new InvalidSearchError(
          `in("${filter.path}", ...) takes from 1 to ${MAX_IN} values.`,
        );
      }
      for (const value of filter.values) scalarOf(value, filter.path);
      return;
    case 'between': {
      const { from, to } = filter;
      if (from === undefined && to === undefined) {
        throw new InvalidSearchError(
          `between("${filter.path}", ...) needs a lower bound, an upper bound or both.`,
        );
      }
      for (const bound of [from, to]) {
        if (bound === undefined) continue;
        if (scalarOf(bound, filter.path) === null) {
          throw new InvalidSearchError(
            `between("${filter.path}", ...) has a null bound: leave it out for an open end.`,
          );
        }
      }
      if (from !== undefined && to !== undefined && typeof from !== typeof to) {
        throw new InvalidSearchError(
          `between("${filter.path}", ...) has bounds of two types (${typeof from}, ${typeof to}): a range holds one.`,
        );
      }
      return;
    }
    case 'exists':
      return;
    case 'contains':
      if (filter.value === undefined) {
        throw new InvalidSearchError(
          `contains("${filter.path}", ...) needs a JSON value.`,
        );
      }
      return;
    default:
      throw new InvalidSearchError(
        `Filter operator "${String((filter as { op: unknown }).op)}" is unknown: use eq, in, between, exists or contains.`,
      );
  }
}
