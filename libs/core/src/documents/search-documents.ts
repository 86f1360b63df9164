import { Inject, type Type } from '@nestjs/common';
import { QueryHandler, type IQueryHandler, type QueryBus } from '@nestjs/cqrs';
import { QueryType } from '../messages/index.js';
import { collectionNameOf } from './collection-definition.js';
import type { DocumentClass } from './document.decorator.js';
import { DocumentSearch, type SearchRunner } from './document-search.js';
import type { FacetCount, SearchPage } from './document-types.js';
import { InvalidSearchError } from './documents.errors.js';
import { Documents } from './documents.service.js';
import type { SearchSpec } from './search-spec.js';

export type SearchOperation = 'page' | 'count' | 'facets';

/**
 * A search of one collection as a query: what an app that does not own the
 * collection sends, and the owner answers. Each collection has its own query
 * type, `chronicle.documents.<collection>.Search` (`searchDocumentsQuery`), so
 * it travels on its own subject to the one app that serves it.
 */
export abstract class SearchDocuments {
  // Defaults: `new Class()` shows the message checks which fields it has.
  constructor(
    readonly operation: SearchOperation = 'page',
    readonly spec: SearchSpec = { filters: [] },
    readonly facet: { path: string; limit: number } | null = null,
  ) {}
}

export type SearchDocumentsClass = new (
  operation?: SearchOperation,
  spec?: SearchSpec,
  facet?: { path: string; limit: number } | null,
) => SearchDocuments;

/** What a SearchDocuments query answers: a page, a count, or facet counts. */
export type SearchDocumentsResult = SearchPage<unknown> | number | FacetCount[];

const queries = new Map<string, SearchDocumentsClass>();

/** The query type of a collection's searches (one class per collection, made once). */
export function searchDocumentsQuery(
  collection: string | DocumentClass,
): SearchDocumentsClass {
  const name = collectionNameOf(collection);
  let query = queries.get(name);
  if (!query) {
    query = class extends SearchDocuments {};
    Object.defineProperty(query, 'name', { value: `Search_${name}` });
    QueryType(`chronicle.documents.${name}.Search`)(query);
    queries.set(name, query);
  }
  return query;
}

/**
 * The handler that answers a collection's SearchDocuments queries: list it
 * among the providers of the module that owns the collection. Served like
 * any query handler: on the transport where that module is enabled.
 */
export function searchDocumentsHandler(
  collection: string | DocumentClass,
): Type<IQueryHandler<SearchDocuments, SearchDocumentsResult>> {
  const name = collectionNameOf(collection);
  @QueryHandler(searchDocumentsQuery(name))
  class SearchDocumentsHandler implements IQueryHandler<
    SearchDocuments,
    SearchDocumentsResult
  > {
    constructor(@Inject(Documents) private readonly documents: Documents) {}

    execute(query: SearchDocuments): Promise<SearchDocumentsResult> {
      return this.documents.answer(name, query);
    }
  }
  Object.defineProperty(SearchDocumentsHandler, 'name', {
    value: `SearchDocumentsHandler_${name}`,
  });
  return SearchDocumentsHandler;
}

/**
 * A search of a collection another app owns, built as any search and sent
 * as its SearchDocuments query. Documents come back as plain JSON, with
 * their dates as dates.
 */
export function remoteSearch<T extends object>(
  queryBus: QueryBus,
  collection: SearchDocumentsClass | string | DocumentClass<T>,
): DocumentSearch<T> {
  const Query = isSearchQuery(collection)
    ? collection
    : searchDocumentsQuery(collection);
  const runner: SearchRunner<T> = {
    page: async (spec) => {
      const page: SearchPage<T> = await queryBus.execute(
        new Query('page', spec),
      );
      return {
        ...page,
        items: page.items.map((item) => ({
          ...item,
          createdAt: new Date(item.createdAt),
          updatedAt: new Date(item.updatedAt),
        })),
      };
    },
    count: (spec) => queryBus.execute(new Query('count', spec)),
    facets: (spec, path, limit) =>
      queryBus.execute(new Query('facets', spec, { path, limit })),
    explain: () =>
      Promise.reject(
        new InvalidSearchError(
          'explain() runs in the app that owns the collection: call it on its Documents.',
        ),
      ),
  };
  return new DocumentSearch<T>(runner);
}

function isSearchQuery(
  given: SearchDocumentsClass | string | DocumentClass,
): given is SearchDocumentsClass {
  return (
    typeof given === 'function' && given.prototype instanceof SearchDocuments
  );
}
