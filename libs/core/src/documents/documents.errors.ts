import { ChronicleError } from '../messages/index.js';

/** What a write expected of a document's revision, or what it found: `absent` when there was no document. */
export type Revision = number | 'absent';

/**
 * A write that expected a revision found another: someone else wrote the
 * document since it was read. Read it again, decide again, write again.
 */
export class DocumentConflictError extends ChronicleError {
  readonly code = 'DOCUMENT_CONFLICT';

  constructor(
    readonly collection: string,
    readonly id: string,
    readonly expected: Revision,
    readonly actual: Revision,
  ) {
    super(
      `Document "${id}" of collection "${collection}" is at revision ${actual}, but the write expected ${expected}. ` +
        'Another write came first: read the document again and retry with its revision (or leave expectedRevision out to overwrite).',
    );
  }
}

/** A `@Document` declaration, or the `documents` options, cannot be made a collection. */
export class DocumentDefinitionError extends ChronicleError {
  readonly code = 'DOCUMENT_DEFINITION';
}

/** A collection this app does not declare, so it has no table here. */
export class UnknownCollectionError extends ChronicleError {
  readonly code = 'UNKNOWN_COLLECTION';

  constructor(readonly collection: string) {
    super(
      `Collection "${collection}" is not declared by this app. List its @Document class (or { name, ... }) in ` +
        'ChronicleModule.forRoot({ documents: { collections: [...] } }) of the app that owns it; other apps search it with a SearchDocuments query.',
    );
  }
}

/** A field path that is not a dotted list of plain names. */
export class InvalidFieldPathError extends ChronicleError {
  readonly code = 'INVALID_FIELD_PATH';

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      `Field path "${path}" ${reason}. A path is field names joined by dots ("customer.city"), ` +
        'each a letter or _ followed by letters, digits or _.',
    );
  }
}

/** A search that cannot run as asked (a bad cursor, a rank sort without a text match, a limit out of range...). */
export class InvalidSearchError extends ChronicleError {
  readonly code = 'INVALID_SEARCH';
}

/** A document, or its id, that cannot be stored. */
export class InvalidDocumentError extends ChronicleError {
  readonly code = 'INVALID_DOCUMENT';
}

/**
 * A consumer version rebuilt beside the live one (blue-green) wrote to a
 * collection the app's module owns, not one the consumer fills: both versions
 * would write the one table, the rebuild over what the live version serves.
 */
export class DocumentsInRebuildError extends ChronicleError {
  readonly code = 'DOCUMENTS_IN_REBUILD';

  constructor(
    readonly consumer: string,
    readonly collection: string,
  ) {
    super(
      `Consumer "${consumer}" wrote to collection "${collection}" while a new version of it was rebuilt beside the live one (blue-green): ` +
        `both versions would write the one collection. List it in the consumer's documents option (@Consumer('${consumer}', { documents: [...] })) so each version fills its own copy, or keep the consumer at its version and reset it.`,
    );
  }
}

/**
 * A write to a collection a consumer fills, from outside that consumer's
 * handlers: a rebuild or a reset would lose it, so only the consumer writes.
 */
export class CollectionFilledByConsumerError extends ChronicleError {
  readonly code = 'COLLECTION_FILLED_BY_CONSUMER';

  constructor(
    readonly collection: string,
    readonly consumer: string,
  ) {
    super(
      `Collection "${collection}" is filled by consumer "${consumer}" (its documents option): only that consumer's handlers write it, ` +
        'since a reset or a new version rebuilds it from the events and would lose any other write. Append an event the consumer handles instead, or declare a collection of your own in the module.',
    );
  }
}
