import {
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { UnitOfWork } from '../handling/index.js';
import { payloadReaderOf, type MessageClass } from '../messages/index.js';
import {
  ambientTransaction,
  StoreSchema,
  type SqlClient,
} from '../store/index.js';
import {
  followForgotten,
  forgetChannel,
  type PersonalDataService,
} from '../security/personal-data/index.js';
import {
  consumerBatch,
  consumerTransaction,
  type ConsumerCollection,
  type ConsumerCollections,
  type ConsumerCollectionSchemas,
} from '../tracking/index.js';
import {
  collectionNameOf,
  defineCollection,
  type CollectionDefinition,
} from './collection-definition.js';
import {
  prepareCollection,
  type CollectionChanges,
} from './collection-tables.js';
import {
  type CollectionDeclaration,
  type DocumentClass,
} from './document.decorator.js';
import { DocumentSearch, type SearchRunner } from './document-search.js';
import type {
  FacetCount,
  SearchHit,
  SearchPage,
  StoredDocument,
  WriteOptions,
  WriteOutcome,
} from './document-types.js';
import {
  deleteDocument,
  documentOf,
  forgetInCollection,
  forgetRecordedInCollection,
  readDocuments,
  writeDocument,
  type DocumentRow,
} from './document-writes.js';
import {
  CollectionFilledByConsumerError,
  DocumentDefinitionError,
  DocumentsInRebuildError,
  InvalidDocumentError,
  InvalidSearchError,
  UnknownCollectionError,
} from './documents.errors.js';
import {
  countStatement,
  deleteStatement,
  encodeCursor,
  facetStatement,
  pageStatement,
} from './search-sql.js';
import { checkSearchSpec, MAX_LIMIT, type SearchSpec } from './search-spec.js';
import { fieldPathSegments } from './field-path.js';
import { FilledCollections } from './filled-collections.js';

/** A collection by its `@Document` class (documents come back as instances) or by name (plain JSON). */
export type CollectionRef<T extends object> = DocumentClass<T> | string;

const MAX_ID_LENGTH = 512;

/**
 * The app's document collections on PostgreSQL (or the embedded PGlite):
 * JSON documents by collection and id, with a revision, searched with
 * `search(collection)`. Where a write runs follows where it is called:
 * inside a command handler it is staged into the command's transaction
 * (after its events); inside a consumer's handler (or `@OnReset` hook) it
 * joins the batch's transaction, so it commits with the consumer's position,
 * exactly once; anywhere else it is a statement of its own. A collection a
 * consumer fills (its `documents` option) lives in the consumer's schema,
 * one copy per version: see `FilledCollections`.
 */
export class Documents
  implements OnModuleInit, OnModuleDestroy, ConsumerCollections
{
  private readonly logger = new Logger('Chronicle documents');
  private readonly byName = new Map<string, CollectionDefinition>();
  private readonly filled = new FilledCollections();
  private listening = false;
  private stopListening?: () => Promise<void>;
  private stopHearing?: () => void;
  /** The runs applying recorded forgets, one after another in this process. */
  private following: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: SqlClient,
    private readonly schema: string,
    collections: readonly (DocumentClass | CollectionDeclaration)[],
    private readonly unitOfWork?: UnitOfWork,
    /** Where forgotten subjects are heard of: the store's personal data, on its schema. */
    private readonly personalData?: {
      readonly service: PersonalDataService;
      readonly storeSchema: string;
    },
  ) {
    for (const declared of collections) this.define(declared);
  }

  /**
   * Adds collections a feature module declares (`ChronicleModule.forFeature`)
   * and makes their tables and indexes; resolves when they are ready.
   */
  async declare(
    collections: readonly (DocumentClass | CollectionDeclaration)[],
  ): Promise<void> {
    const added = collections.flatMap((declared) => {
      const definition = this.define(declared);
      return definition ? [definition] : [];
    });
    for (const definition of added) await this.prepareOne(definition);
  }

  /** Defines one collection; undefined when the same class was declared already. */
  private define(
    declared: DocumentClass | CollectionDeclaration,
  ): CollectionDefinition | undefined {
    const definition = defineCollection(declared, this.schema);
    const filledBy = this.filled.consumerOf(definition.name);
    if (filledBy !== undefined) {
      throw new DocumentDefinitionError(
        `Collection "${definition.name}" is declared by a module and filled by consumer "${filledBy}" (its documents option): declare it in one place, the consumer's documents when the consumer fills it.`,
      );
    }
    const known = this.byName.get(definition.name);
    if (known) {
      if (known.type !== undefined && known.type === definition.type)
        return undefined;
      throw new DocumentDefinitionError(
        `Collection "${definition.name}" is declared twice (documents.collections, ChronicleModule.forFeature): declare each once, in the module that owns it.`,
      );
    }
    this.byName.set(definition.name, definition);
    return definition;
  }

  /**
   * Takes the collections a consumer fills (tracking calls it at bootstrap):
   * makes them in this app's version's schema and serves reads from the
   * live version's.
   */
  async adopt(
    consumer: string,
    collections: readonly ConsumerCollection[],
    schemas: ConsumerCollectionSchemas,
  ): Promise<void> {
    for (const declared of collections) {
      const own =
        schemas.own === undefined
          ? undefined
          : defineCollection(declared, schemas.own);
      const name = own?.name ?? defineCollection(declared, this.schema).name;
      const other = this.filled.consumerOf(name);
      if (
        this.byName.has(name) ||
        (other !== undefined && other !== consumer)
      ) {
        throw new DocumentDefinitionError(
          `Collection "${name}" is filled by consumer "${consumer}" and also ${other !== undefined && other !== consumer ? `by consumer "${other}"` : 'declared by a module'}: one owner per collection. List it only in the documents option of the consumer that fills it.`,
        );
      }
      if (own) await this.prepareOne(own);
      this.filled.add(consumer, declared, own, schemas);
    }
    await this.followForgotten();
  }

  /** Makes (or brings up to date) every collection's table and indexes; logs what changed. */
  async prepare(): Promise<Map<string, CollectionChanges>> {
    const report = new Map<string, CollectionChanges>();
    for (const definition of this.byName.values())
      report.set(definition.name, await this.prepareOne(definition));
    return report;
  }

  private async prepareOne(
    definition: CollectionDefinition,
  ): Promise<CollectionChanges> {
    const changes = await prepareCollection(this.client, definition);
    if (changes.created.length + changes.dropped.length > 0) {
      this.logger.log(
        `Collection "${definition.name}": created [${changes.created.join(', ')}], dropped [${changes.dropped.join(', ')}]`,
      );
    }
    return changes;
  }

  /**
   * Follows forgotten subjects when a collection holds personal data: applies
   * every forget recorded since this projection schema's watermark, before
   * the app serves (so forgets made while no instance ran are not missed),
   * then again at once in the process that forgets (before `forgetSubject`
   * returns) and on the store's notification in every other process.
   */
  async onModuleInit(): Promise<void> {
    await this.followForgotten();
  }

  /**
   * Starts hearing of forgotten subjects once a collection holds personal
   * data (at init, or when a consumer's is adopted), then applies what was
   * recorded since each copy's watermark.
   */
  private async followForgotten(): Promise<void> {
    if (!this.personalData || !this.collections().some((c) => c.personal))
      return;
    const store = new StoreSchema(this.personalData.storeSchema);
    if (!this.listening) {
      this.listening = true;
      this.stopHearing = this.personalData.service.onForget(() =>
        this.followForgets(store).then(() => undefined),
      );
      // Listening first: a forget committed during the catch-up below is heard.
      await this.listenForForgets(store);
    }
    await this.followForgets(store);
  }

  private async listenForForgets(store: StoreSchema): Promise<void> {
    if (!this.client.listen) return;
    try {
      this.stopListening = await this.client.listen(
        forgetChannel(store),
        (subject) => {
          this.followForgets(store).catch((error: unknown) =>
            this.logger.error(
              `Forgetting subject "${subject}" in documents failed (applied at the next forget or start): ${(error as Error).message}`,
            ),
          );
        },
      );
    } catch (error) {
      this.logger.warn(
        `Not listening for forgotten subjects (${(error as Error).message}): documents follow the forgets of this process, and the others' at the next start`,
      );
    }
  }

  /**
   * Applies the forgets recorded after each watermark to the collections it
   * covers, and moves it, in one transaction per watermark (instances take
   * turns on its row): one for the module's collections (`documents:<projection
   * schema>`), one per schema of this app's consumers' own copies (a new
   * version's copy starts from nothing and catches up). Runs one after
   * another in this process; resolves to how many documents changed.
   */
  private followForgets(store: StoreSchema): Promise<number> {
    const groups = new Map<string, CollectionDefinition[]>();
    groups.set(this.schema, [...this.byName.values()]);
    for (const own of this.filled.ownCopies())
      groups.set(own.schema, [...(groups.get(own.schema) ?? []), own]);
    const run = this.following.then(async () => {
      let changed = 0;
      for (const [schema, collections] of groups) {
        if (!collections.some((c) => c.personal)) continue;
        changed +=
          (await followForgotten(
            this.client,
            store,
            `documents:${schema}`,
            async (tx, forgets) => {
              let count = 0;
              for (const collection of collections)
                count += await forgetRecordedInCollection(
                  tx,
                  collection,
                  forgets,
                );
              return count;
            },
          )) ?? 0;
      }
      return changed;
    });
    this.following = run.catch(() => undefined);
    return run;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopHearing?.();
    await this.stopListening?.();
    // A run under way finishes before the client may close.
    await this.following;
  }

  /**
   * Sets the `@PersonalData` fields of the subject's documents, in every
   * collection holding personal data, to their placeholders. Resolves to how
   * many documents changed (0 when done already).
   */
  async forget(subjectId: string): Promise<number> {
    let changed = 0;
    const copies = [...this.byName.values(), ...(await this.filled.copies())];
    for (const collection of copies)
      changed += await forgetInCollection(this.client, collection, subjectId);
    return changed;
  }

  /** The collections this app declares or its consumers fill (one copy of each). */
  collections(): readonly CollectionDefinition[] {
    return [...this.byName.values(), ...this.filled.definitions()];
  }

  /** Stores `document` under `id`: a new one at revision 1, an existing one replaced at the next revision. */
  async index<T extends object>(
    collection: CollectionRef<T>,
    id: string,
    document: T,
    options: WriteOptions = {},
  ): Promise<WriteOutcome<{ revision: number }>> {
    const name = this.nameOf(collection);
    checkId(name, id);
    const body = bodyOf(name, id, document);
    return this.write(
      name,
      (sql, definition) =>
        writeDocument(sql, definition, id, body, options.expectedRevision),
      (revision) => ({ revision }),
    );
  }

  async get<T extends object>(
    collection: CollectionRef<T>,
    id: string,
  ): Promise<StoredDocument<T> | undefined> {
    const [found] = await this.getMany(collection, [id]);
    return found;
  }

  /** The documents of these ids that exist, in the order of `ids`. */
  async getMany<T extends object>(
    collection: CollectionRef<T>,
    ids: readonly string[],
  ): Promise<StoredDocument<T>[]> {
    const name = this.nameOf(collection);
    if (ids.length === 0) return [];
    ids.forEach((id) => checkId(name, id));
    return this.reading(name, async (definition) => {
      const rows = await readDocuments(await this.reader(), definition, ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [this.documentOf<T>(definition, row)] : [];
      });
    });
  }

  /** Deletes the document; `deleted` says whether there was one. */
  async delete<T extends object>(
    collection: CollectionRef<T>,
    id: string,
    options: WriteOptions = {},
  ): Promise<WriteOutcome<{ deleted: boolean }>> {
    const name = this.nameOf(collection);
    checkId(name, id);
    return this.write(
      name,
      (sql, definition) =>
        deleteDocument(sql, definition, id, options.expectedRevision),
      (deleted) => ({ deleted }),
    );
  }

  /** Deletes every document the search's match and filters select (its sort and paging do not apply). */
  async deleteWhere<T extends object>(
    collection: CollectionRef<T>,
    select: (search: DocumentSearch<T>) => DocumentSearch<T>,
  ): Promise<WriteOutcome<{ count: number }>> {
    const name = this.nameOf(collection);
    const spec = select(new DocumentSearch<T>(refusing)).spec();
    return this.write(
      name,
      async (sql, definition) => {
        const statement = deleteStatement(definition, spec);
        const [row] = await sql.query<{ count: number }>(
          statement.text,
          statement.params,
        );
        return row.count;
      },
      (count) => ({ count }),
    );
  }

  /** A search of the collection: chain match, filters, sort and paging, then page(), count() or facets(). */
  search<T extends object>(collection: CollectionRef<T>): DocumentSearch<T> {
    return new DocumentSearch<T>(this.runner<T>(this.nameOf(collection)));
  }

  /** Runs a search given as JSON (a `SearchDocuments` query's): checked here, whoever built it. */
  async searchSpec<T extends object>(
    collection: CollectionRef<T>,
    spec: SearchSpec,
  ): Promise<SearchPage<T>> {
    return this.runner<T>(this.nameOf(collection)).page(checkSearchSpec(spec));
  }

  /**
   * Answers a SearchDocuments query for an owned collection: its search
   * checked here, as anything that came over the wire.
   */
  async answer(
    collection: string,
    query: {
      readonly operation: string;
      readonly spec: SearchSpec;
      readonly facet: { path: string; limit: number } | null;
    },
  ): Promise<SearchPage<unknown> | number | FacetCount[]> {
    const runner = this.runner<object>(this.nameOf(collection));
    const spec = checkSearchSpec(query.spec);
    switch (query.operation) {
      case 'page':
        return runner.page(spec);
      case 'count':
        return runner.count(spec);
      case 'facets': {
        const { path, limit } = query.facet ?? { path: '', limit: 0 };
        fieldPathSegments(path);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
          throw new InvalidSearchError(
            `facets("${path}") limit is ${String(limit)}: use a whole number from 1 to ${MAX_LIMIT}.`,
          );
        }
        return runner.facets(spec, path, limit);
      }
      default:
        throw new InvalidSearchError(
          `Search operation "${String(query.operation)}" is unknown: use page, count or facets.`,
        );
    }
  }

  private runner<T extends object>(name: string): SearchRunner<T> {
    const run = <R>(read: (definition: CollectionDefinition) => Promise<R>) =>
      this.reading(name, read);
    return {
      page: (spec) =>
        run(async (definition) => {
          const statement = pageStatement(definition, spec);
          const rows = await (
            await this.reader()
          ).query<DocumentRow & { sort_key?: string | null; rank?: number }>(
            statement.text,
            statement.params,
          );
          const read = this.readerOf<T>(definition);
          const items: SearchHit<T>[] = [];
          for (const row of rows.slice(0, statement.limit)) {
            const hit = documentOf<T>(definition.name, row, read) as {
              rank?: number;
            } & StoredDocument<T>;
            if (row.rank !== undefined) hit.rank = Number(row.rank);
            items.push(hit);
          }
          if (rows.length <= statement.limit) return { items };
          const last = rows[statement.limit - 1];
          // A float4 reads back as the shortest text that makes it again: String() of it does.
          const key = statement.byRank
            ? String(last.rank)
            : (last.sort_key ?? null);
          return {
            items,
            next: encodeCursor(statement.signature, key, last.id),
          };
        }),
      explain: (spec) =>
        run(async (definition) => {
          const statement = pageStatement(definition, spec);
          const rows = await (
            await this.reader()
          ).query<Record<string, string>>(
            `EXPLAIN ${statement.text}`,
            statement.params,
          );
          return rows.map((row) => Object.values(row)[0]).join('\n');
        }),
      count: (spec) =>
        run(async (definition) => {
          const statement = countStatement(definition, spec);
          const [row] = await (
            await this.reader()
          ).query<{ count: number }>(statement.text, statement.params);
          return row.count;
        }),
      facets: (spec, path, limit): Promise<FacetCount[]> =>
        run(async (definition) => {
          const statement = facetStatement(definition, spec, path, limit);
          const rows = await (
            await this.reader()
          ).query<{ value: unknown; count: number }>(
            statement.text,
            statement.params,
          );
          return rows.map(({ value, count }) => ({ value, count }));
        }),
    };
  }

  /** Runs a write where it belongs (see the class comment). */
  private async write<R, O extends object>(
    collection: string,
    run: (sql: SqlClient, definition: CollectionDefinition) => Promise<R>,
    outcome: (result: R) => O,
  ): Promise<WriteOutcome<O>> {
    const definition = this.writtenCopy(collection);
    if (this.unitOfWork?.active) {
      await this.unitOfWork.enlist(async (tx) => {
        await run(tx, definition);
      });
      return { staged: true };
    }
    const sql = (await consumerTransaction()) ?? this.client;
    return { staged: false, ...outcome(await run(sql, definition)) };
  }

  /**
   * The copy a write goes to: a module's collection, or a consumer's own
   * version's copy from that consumer's handlers; nothing else writes a
   * filled collection, and a rebuilding version writes no module's.
   */
  private writtenCopy(collection: string): CollectionDefinition {
    const batch = consumerBatch();
    const filledBy = this.filled.consumerOf(collection);
    if (filledBy !== undefined) {
      const own =
        batch?.consumer === filledBy ? this.filled.own(collection) : undefined;
      if (!own) throw new CollectionFilledByConsumerError(collection, filledBy);
      return own;
    }
    if (batch?.replaying)
      throw new DocumentsInRebuildError(batch.consumer, collection);
    return this.declared(collection);
  }

  /**
   * Runs a read on the right copy: a module's collection; for a filled one,
   * the consumer's own version's copy in its handlers (it reads what it
   * wrote), the live version's anywhere else.
   */
  private reading<R>(
    collection: string,
    read: (definition: CollectionDefinition) => Promise<R>,
  ): Promise<R> {
    const filledBy = this.filled.consumerOf(collection);
    if (filledBy === undefined) return read(this.declared(collection));
    const own =
      consumerBatch()?.consumer === filledBy
        ? this.filled.own(collection)
        : undefined;
    return own ? read(own) : this.filled.readLive(collection, read);
  }

  /** Reads see the transaction of this context when one is open (a consumer's batch after its writes). */
  private async reader(): Promise<SqlClient> {
    return ambientTransaction()?.current ?? this.client;
  }

  /** The collection's name, when this app declares it or a consumer of it fills it. */
  private nameOf(collection: CollectionRef<object>): string {
    const name =
      typeof collection === 'string'
        ? collection
        : collectionNameOf(collection);
    if (!this.byName.has(name) && !this.filled.has(name))
      throw new UnknownCollectionError(name);
    return name;
  }

  private declared(name: string): CollectionDefinition {
    const definition = this.byName.get(name);
    if (!definition) throw new UnknownCollectionError(name);
    return definition;
  }

  private documentOf<T>(
    definition: CollectionDefinition,
    row: DocumentRow,
  ): StoredDocument<T> {
    return documentOf<T>(definition.name, row, this.readerOf<T>(definition));
  }

  /** How a body becomes the class's instance: as a message payload does (plainToInstance, or its fast path for an undecorated class). */
  private readerOf<T>(definition: CollectionDefinition): (body: unknown) => T {
    const type = definition.type;
    return type
      ? (payloadReaderOf(type as MessageClass) as (body: unknown) => T)
      : (body) => body as T;
  }
}

/** deleteWhere's builder only collects a spec; running it is not its job. */
const refusing: SearchRunner<never> = {
  page: () => Promise.reject(notHere()),
  explain: () => Promise.reject(notHere()),
  count: () => Promise.reject(notHere()),
  facets: () => Promise.reject(notHere()),
};

function notHere(): Error {
  return new DocumentDefinitionError(
    'The search given to deleteWhere selects documents; return it instead of running it.',
  );
}

function checkId(collection: string, id: string): void {
  if (
    typeof id !== 'string' ||
    id.length === 0 ||
    id.length > MAX_ID_LENGTH ||
    id.includes('\u0000')
  ) {
    throw new InvalidDocumentError(
      `A document id of collection "${collection}" must be text of 1 to ${MAX_ID_LENGTH} characters without NUL; got ${JSON.stringify(id)}.`,
    );
  }
}

function bodyOf(collection: string, id: string, document: object): string {
  if (
    typeof document !== 'object' ||
    document === null ||
    Array.isArray(document)
  ) {
    throw new InvalidDocumentError(
      `Document "${id}" of collection "${collection}" must be an object (its fields are what searches filter on).`,
    );
  }
  const body = JSON.stringify(document);
  // PostgreSQL's jsonb cannot hold a NUL character.
  if (body.includes('\\u0000')) {
    throw new InvalidDocumentError(
      `Document "${id}" of collection "${collection}" holds a NUL character (\\u0000), which PostgreSQL cannot store in JSON: remove it.`,
    );
  }
  return body;
}
