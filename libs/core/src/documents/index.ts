export {
  Document,
  type CollectionDeclaration,
  type DocumentClass,
  type DocumentIndex,
  type DocumentOptions,
} from './document.decorator.js';
export { DocumentSearch } from './document-search.js';
export type {
  FacetCount,
  FieldPath,
  SearchHit,
  SearchPage,
  StoredDocument,
  WriteOptions,
  WriteOutcome,
} from './document-types.js';
export {
  DocumentConflictError,
  DocumentDefinitionError,
  CollectionFilledByConsumerError,
  DocumentsInRebuildError,
  InvalidDocumentError,
  InvalidFieldPathError,
  InvalidSearchError,
  UnknownCollectionError,
  type Revision,
} from './documents.errors.js';
export {
  documentsFeatureProvider,
  type DocumentsOptions,
} from './documents.options.js';
export { Documents, type CollectionRef } from './documents.service.js';
export type { CollectionChanges } from './collection-tables.js';
export type {
  CollectionDefinition,
  IndexDefinition,
} from './collection-definition.js';
export type {
  FilterValue,
  Scalar,
  SearchFilter,
  SearchSort,
  SearchSpec,
} from './search-spec.js';
export {
  remoteSearch,
  SearchDocuments,
  searchDocumentsHandler,
  searchDocumentsQuery,
  type SearchDocumentsClass,
  type SearchDocumentsResult,
  type SearchOperation,
} from './search-documents.js';
