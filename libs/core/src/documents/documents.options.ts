import type {
  CollectionDeclaration,
  DocumentClass,
} from './document.decorator.js';

export interface DocumentsOptions {
  /**
   * The collections this app owns: `@Document` classes, or `{ name, indexes,
   * text, language }` for plain JSON. Their tables and indexes are made (and
   * changed with the declaration) when the app starts.
   */
  readonly collections?: readonly (DocumentClass | CollectionDeclaration)[];
}
