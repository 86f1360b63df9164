import type {
  CollectionDeclaration,
  DocumentClass,
} from '../documents/document.decorator.js';

/** A document collection a consumer fills: a `@Document` class or a `{ name, indexes, text }` declaration. */
export type ConsumerCollection = DocumentClass | CollectionDeclaration;

/** Where a consumer's collections are: its own version's schema, and the live one's. */
export interface ConsumerCollectionSchemas {
  /** This app's version's schema, where its handlers write; absent when that version is retired here. */
  readonly own?: string;
  /** The live version's schema, where reads go (it changes at a blue-green switch). */
  live(): Promise<string>;
}

/**
 * The port through which tracking hands the document store the collections a
 * consumer fills (its `documents` option), so that tracking need not know
 * how documents are stored: `Documents` implements it. Tracking calls it at
 * bootstrap, after the consumer's schema exists.
 */
export interface ConsumerCollections {
  adopt(
    consumer: string,
    collections: readonly ConsumerCollection[],
    schemas: ConsumerCollectionSchemas,
  ): Promise<void>;
}
