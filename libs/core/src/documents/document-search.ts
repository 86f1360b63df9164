import type { FacetCount, FieldPath, SearchPage } from './document-types.js';
import { InvalidSearchError } from './documents.errors.js';
import { fieldPathSegments } from './field-path.js';
import {
  checkSearchSpec,
  MAX_LIMIT,
  scalarOf,
  type FilterValue,
  type JsonValue,
  type SearchFilter,
  type SearchSort,
  type SearchSpec,
} from './search-spec.js';

/** What runs a finished search: `Documents` on this app's table. */
export interface SearchRunner<T> {
  page(spec: SearchSpec): Promise<SearchPage<T>>;
  count(spec: SearchSpec): Promise<number>;
  facets(spec: SearchSpec, path: string, limit: number): Promise<FacetCount[]>;
  explain(spec: SearchSpec): Promise<string>;
}

/**
 * A search of one collection, built by chaining: text `match`, filters on
 * JSON paths (all must hold), a sort, a page size and a cursor; then run by
 * `page`, `count` or `facets`. Each call checks its input at once, so a bad
 * path fails where it is written. `spec()` is the search as plain JSON.
 */
export class DocumentSearch<T extends object> {
  private matchText?: string;
  private readonly filters: SearchFilter[] = [];
  private sort?: SearchSort;
  private size?: number;
  private cursor?: string;

  constructor(private readonly runner: SearchRunner<T>) {}

  /** Documents whose text fields match `text` (web search syntax: words, "a phrase", -not, or). */
  match(text: string): this {
    this.matchText = text;
    return this;
  }

  eq(path: FieldPath<T>, value: FilterValue): this {
    return this.add({ op: 'eq', path, value: scalarOf(value, path) });
  }

  in(path: FieldPath<T>, values: readonly FilterValue[]): this {
    return this.add({
      op: 'in',
      path,
      values: values.map((v) => scalarOf(v, path)),
    });
  }

  /** From `from` to `to`, both included; leave one out (undefined) for an open end. */
  between(
    path: FieldPath<T>,
    from: FilterValue | undefined,
    to: FilterValue | undefined,
  ): this {
    return this.add({
      op: 'between',
      path,
      ...(from === undefined ? {} : { from: scalarOf(from, path) }),
      ...(to === undefined ? {} : { to: scalarOf(to, path) }),
    });
  }

  /** Documents that have the field (even when it holds null). */
  exists(path: FieldPath<T>): this {
    return this.add({ op: 'exists', path });
  }

  /** JSON containment: an array holding the value(s), an object holding these fields. */
  contains(path: FieldPath<T>, value: JsonValue): this {
    return this.add({ op: 'contains', path, value });
  }

  sortBy(path: FieldPath<T>, direction: 'asc' | 'desc' = 'asc'): this {
    fieldPathSegments(path);
    this.sort = { by: 'field', path, direction };
    return this;
  }

  /** Best text match first (the default when matching). */
  sortByRank(): this {
    this.sort = { by: 'rank' };
    return this;
  }

  limit(count: number): this {
    this.size = count;
    return this;
  }

  /** The page after the one that returned this cursor (`next`). */
  after(cursor: string | undefined): this {
    this.cursor = cursor;
    return this;
  }

  spec(): SearchSpec {
    return checkSearchSpec({
      ...(this.matchText === undefined ? {} : { match: this.matchText }),
      filters: [...this.filters],
      ...(this.sort ? { sort: this.sort } : {}),
      ...(this.size === undefined ? {} : { limit: this.size }),
      ...(this.cursor === undefined ? {} : { after: this.cursor }),
    });
  }

  async page(): Promise<SearchPage<T>> {
    return this.runner.page(this.spec());
  }

  async count(): Promise<number> {
    return this.runner.count(this.spec());
  }

  /** PostgreSQL's plan for `page()`: to see which index serves the search. */
  async explain(): Promise<string> {
    return this.runner.explain(this.spec());
  }

  /** Counts per value of the field among the matching documents, most first. */
  facets(
    path: FieldPath<T>,
    options: { limit?: number } = {},
  ): Promise<FacetCount[]> {
    fieldPathSegments(path);
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new InvalidSearchError(
        `facets("${path}") limit is ${limit}: use a whole number from 1 to ${MAX_LIMIT}.`,
      );
    }
    return this.runner.facets(this.spec(), path, limit);
  }

  private add(filter: SearchFilter): this {
    fieldPathSegments(filter.path);
    this.filters.push(filter);
    return this;
  }
}
