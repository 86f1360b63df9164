import type { Provider } from '@nestjs/common';
import type {
  CollectionDeclaration,
  DocumentClass,
} from './document.decorator.js';
import { Documents } from './documents.service.js';

export interface DocumentsOptions {
  /**
   * The collections this app owns: `@Document` classes, or `{ name, indexes,
   * text, language }` for plain JSON. Their tables and indexes are made (and
   * changed with the declaration) when the app starts.
   */
  readonly collections?: readonly (DocumentClass | CollectionDeclaration)[];
}

/** The provider behind `ChronicleModule.forFeature(..., { documents })`: declares them when made. */
export function documentsFeatureProvider(
  collections: NonNullable<DocumentsOptions['collections']>,
): Provider {
  return {
    provide: Symbol('chronicle:documents-feature'),
    useFactory: async (documents: Documents) => {
      await documents.declare(collections);
      return collections;
    },
    inject: [Documents],
  };
}
