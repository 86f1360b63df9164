// The decorator only stores the declaration; Documents reads it when the app starts.

const DOCUMENT = Symbol('chronicle:document');

/** An index on one JSON path: `btree` (the default) serves eq, in, between, sort; `gin` serves contains. */
export interface DocumentIndex {
  readonly path: string;
  readonly using?: 'btree' | 'gin';
}

export interface DocumentOptions {
  /** JSON paths to index (`'customerId'`, `'address.city'`, `{ path: 'tags', using: 'gin' }`). */
  readonly indexes?: readonly (string | DocumentIndex)[];
  /** Text fields searched by `match`, most important first (they rank in that order). */
  readonly text?: readonly string[];
  /** The PostgreSQL text search configuration of `text` (default `english`). */
  readonly language?: string;
}

/** A collection declared without a class: plain JSON documents. */
export interface CollectionDeclaration extends DocumentOptions {
  readonly name: string;
}

// `never[]`: any constructor, whatever its parameters.
export type DocumentClass<T extends object = object> = new (
  ...args: never[]
) => T;

/**
 * Stores instances of the class as documents of collection `name`, with the
 * declared indexes. The app that lists the class in its `documents`
 * options owns the collection: it makes its table and indexes.
 */
export function Document(
  name: string,
  options: DocumentOptions = {},
): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(DOCUMENT, { name, ...options }, target);
  };
}

/** The `@Document` declaration of a class, if it has one. */
export function documentDeclarationOf(
  target: object,
): CollectionDeclaration | undefined {
  return Reflect.getMetadata(DOCUMENT, target) as
    CollectionDeclaration | undefined;
}
