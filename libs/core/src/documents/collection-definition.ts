import { createHash } from 'node:crypto';
import {
  documentDeclarationOf,
  type CollectionDeclaration,
  type DocumentClass,
} from './document.decorator.js';
import { DocumentDefinitionError } from './documents.errors.js';
import { fieldPathSegments, jsonAt, textAt } from './field-path.js';
import { personalDataOf } from '../security/personal-data/index.js';

/** One index a collection declares, as it is made in PostgreSQL. */
export interface IndexDefinition {
  /** Named after its definition: a changed declaration is a new index, the old one dropped. */
  readonly name: string;
  readonly path: string;
  readonly using: 'btree' | 'gin';
  /** The part of CREATE INDEX after `ON <table>`. */
  readonly method: string;
}

/** A declared collection, resolved: where it lives and what it indexes. */
export interface CollectionDefinition {
  readonly name: string;
  readonly schema: string;
  /** The table's name in `schema`: `documents_<name>`. */
  readonly tableName: string;
  /** `"<schema>"."documents_<name>"`, for SQL text. */
  readonly table: string;
  readonly indexes: readonly IndexDefinition[];
  readonly text: readonly string[];
  readonly language: string;
  /** The generated tsvector's expression (undefined without `text`). */
  readonly searchExpression?: string;
  /** A digest of text and language, kept as the search column's comment to notice a change. */
  readonly searchDigest?: string;
  /** The class its documents are made into on reading, if declared by one. */
  readonly type?: DocumentClass;
  /** Its `@PersonalData` fields: what forgetting their `@DataSubject` sets them to. */
  readonly personal?: {
    readonly subject: string;
    readonly placeholders: Readonly<
      Record<string, string | number | boolean | null>
    >;
  };
}

const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const LANGUAGE = /^[a-z_]{1,63}$/;
const WEIGHTS = ['A', 'B', 'C', 'D'] as const;

/** The name of a collection given by name or by its `@Document` class, checked. */
export function collectionNameOf(collection: string | DocumentClass): string {
  const name =
    typeof collection === 'string'
      ? collection
      : documentDeclarationOf(collection)?.name;
  if (name === undefined) {
    throw new DocumentDefinitionError(
      `${(collection as DocumentClass).name} has no @Document(name, ...): decorate it, or name the collection.`,
    );
  }
  if (!NAME.test(name)) {
    throw new DocumentDefinitionError(
      `Collection name "${name}" is not allowed: use a lower-case letter, then up to 39 lower-case letters, digits or _ (it names a table).`,
    );
  }
  return name;
}

/** The collection a class or declaration names, checked and resolved against `schema`. */
export function defineCollection(
  declared: DocumentClass | CollectionDeclaration,
  schema: string,
): CollectionDefinition {
  const type = typeof declared === 'function' ? declared : undefined;
  const declaration =
    typeof declared === 'function' ? documentDeclarationOf(declared) : declared;
  if (!declaration) {
    throw new DocumentDefinitionError(
      `${type?.name ?? 'A collection'} is listed in documents.collections without @Document(name, ...): decorate the class, or list { name, indexes, text } instead.`,
    );
  }
  const { name } = declaration;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new DocumentDefinitionError(
      `Collection name "${String(name)}" is not allowed: use a lower-case letter, then up to 39 lower-case letters, digits or _ (it names a table).`,
    );
  }
  const tableName = `documents_${name}`;
  const language = declaration.language ?? 'english';
  if (!LANGUAGE.test(language)) {
    throw new DocumentDefinitionError(
      `Collection "${name}" declares language "${language}": name a PostgreSQL text search configuration (english, simple, german...).`,
    );
  }
  const text = [...(declaration.text ?? [])];
  text.forEach(fieldPathSegments);
  const indexes: IndexDefinition[] = (declaration.indexes ?? []).map(
    (entry) => {
      const path = typeof entry === 'string' ? entry : entry.path;
      const using =
        (typeof entry === 'string' ? undefined : entry.using) ?? 'btree';
      if (using !== 'btree' && using !== 'gin') {
        throw new DocumentDefinitionError(
          `Collection "${name}" indexes "${path}" using "${String(using)}": use btree (eq, in, between, sort) or gin (contains).`,
        );
      }
      // The id follows the path in a btree: keyset pages sorted by it read the index in order.
      const method =
        using === 'btree'
          ? `(${jsonAt(path)}, id)`
          : `USING gin (${jsonAt(path)} jsonb_path_ops)`;
      return {
        name: `${tableName}_i${digest(method)}`,
        path,
        using,
        method,
      };
    },
  );
  const personal = type ? personalOf(name, type) : undefined;
  // Forgetting finds a subject's documents by this field: it needs an index.
  if (
    personal &&
    !indexes.some((i) => i.path === personal.subject && i.using === 'btree')
  ) {
    const method = `(${jsonAt(personal.subject)}, id)`;
    indexes.push({
      name: `${tableName}_i${digest(method)}`,
      path: personal.subject,
      using: 'btree',
      method,
    });
  }
  const seen = new Set<string>();
  for (const index of indexes) {
    if (seen.has(index.name)) {
      throw new DocumentDefinitionError(
        `Collection "${name}" declares the index on "${index.path}" (${index.using}) twice: list it once.`,
      );
    }
    seen.add(index.name);
  }
  const searchExpression =
    text.length === 0
      ? undefined
      : text
          .map(
            (path, i) =>
              `setweight(to_tsvector('${language}'::regconfig, coalesce(${textAt(path)}, '')), '${WEIGHTS[Math.min(i, 3)]}')`,
          )
          .join(' || ');
  return {
    name,
    schema,
    tableName,
    table: `"${schema}"."${tableName}"`,
    indexes,
    text,
    language,
    searchExpression,
    searchDigest: searchExpression && digest(searchExpression),
    type,
    personal,
  };
}

/** The personal fields of a document class, and the field naming whose they are. */
function personalOf(
  collection: string,
  type: DocumentClass,
): CollectionDefinition['personal'] {
  const { fields, subject } = personalDataOf(type.prototype);
  if (fields.size === 0) return undefined;
  if (subject === undefined) {
    throw new DocumentDefinitionError(
      `${type.name} (collection "${collection}") marks fields with @PersonalData but none with @DataSubject(): ` +
        'mark the field that holds the id of the person they belong to, so forgetting that person finds the documents.',
    );
  }
  const placeholders: Record<string, string | number | boolean | null> = {};
  for (const [field, options] of fields)
    placeholders[field] = options.placeholder ?? null;
  return { subject, placeholders };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
