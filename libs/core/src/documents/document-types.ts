import type { Revision } from './documents.errors.js';

type Leaf =
  string | number | boolean | bigint | symbol | null | undefined | Date;
type Depth = [never, 0, 1, 2, 3];

/**
 * The dotted paths of a document type's fields, up to four deep
 * (`'status'`, `'customer.city'`); any string for a document typed as a
 * plain record. Checked again at run time, for paths that come as text.
 */
export type FieldPath<T, D extends number = 4> = [D] extends [never]
  ? never
  : T extends Leaf | readonly unknown[]
    ? never
    : string extends keyof T
      ? string
      : {
          [K in keyof T & string]:
            | K
            | (NonNullable<T[K]> extends Leaf | readonly unknown[]
                ? never
                : `${K}.${FieldPath<NonNullable<T[K]>, Depth[D]>}`);
        }[keyof T & string];

/** A document as stored: its body and what the store keeps beside it. */
export interface StoredDocument<T> {
  readonly collection: string;
  readonly id: string;
  /** 1 when first written, one more with every write. */
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly body: T;
}

/** A document a search found; `rank` is its text search rank when the search matched text. */
export interface SearchHit<T> extends StoredDocument<T> {
  readonly rank?: number;
}

/** One page of a search, and the cursor of the next (absent on the last page). */
export interface SearchPage<T> {
  readonly items: readonly SearchHit<T>[];
  readonly next?: string;
}

/** How many documents hold one value of a field (`null`: the field is absent or null). */
export interface FacetCount {
  readonly value: unknown;
  readonly count: number;
}

export interface WriteOptions {
  /**
   * The revision the document must be at for the write to happen (as read
   * with it), or `'absent'` for a document that must not exist yet. Left
   * out, the write happens whatever is there (an upsert).
   */
  readonly expectedRevision?: Revision;
}

/**
 * What a write did. Inside a command handler, writes are staged and run in
 * the command's transaction when the handler returns (after its events):
 * `staged` is then true and the outcome is not known yet; a conflict then
 * fails the command.
 */
export type WriteOutcome<T> =
  ({ readonly staged: false } & T) | { readonly staged: true };
