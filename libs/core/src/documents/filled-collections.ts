import { sqlStateOf } from '../store/index.js';
import type {
  ConsumerCollection,
  ConsumerCollectionSchemas,
} from '../tracking/consumer-collections.js';
import {
  defineCollection,
  type CollectionDefinition,
} from './collection-definition.js';

/** How long a read trusts the live version's schema it looked up: a switch is seen within this. */
const LIVE_TTL_MS = 1000;

/** PostgreSQL: the table is not there (a retired version's schema was dropped). */
const UNDEFINED_TABLE = '42P01';

/** A collection a consumer fills, in the schemas of its versions. */
/** The schema a collection's shape is read under when this app has no copy of its own. */
const SHAPE_ONLY_SCHEMA = 'shape_only';

interface FilledCollection {
  readonly consumer: string;
  readonly declared: ConsumerCollection;
  /** In this app's version's schema, where its handlers write. */
  readonly own?: CollectionDefinition;
  /**
   * Its name, fields and indexes, which no schema changes: this app's copy
   * when it has one, else the declaration read under a schema that is never
   * queried.
   */
  readonly shape: CollectionDefinition;
  readonly schemas: ConsumerCollectionSchemas;
  live?: { readonly definition: CollectionDefinition; readonly until: number };
}

/**
 * The collections consumers fill (their `documents` option). Each version of
 * the consumer has its own copy of the table, in its own schema: the handlers
 * of a version read and write theirs, everyone else reads the live version's,
 * so a blue-green rebuild fills its copy while the live one serves, and reads
 * switch with the version.
 */
export class FilledCollections {
  private readonly byName = new Map<string, FilledCollection>();

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The consumer that fills the collection, if one does. */
  consumerOf(name: string): string | undefined {
    return this.byName.get(name)?.consumer;
  }

  add(
    consumer: string,
    declared: ConsumerCollection,
    own: CollectionDefinition | undefined,
    schemas: ConsumerCollectionSchemas,
  ): void {
    const shape = own ?? defineCollection(declared, SHAPE_ONLY_SCHEMA);
    this.byName.set(shape.name, { consumer, declared, own, shape, schemas });
  }

  /** This app's version's copy: where the consumer's handlers write. */
  own(name: string): CollectionDefinition | undefined {
    return this.byName.get(name)?.own;
  }

  /** The live version's copy, looked up at most once a second. */
  async live(name: string): Promise<CollectionDefinition> {
    const filled = this.filled(name);
    if (filled.live && filled.live.until > Date.now())
      return filled.live.definition;
    const schema = await filled.schemas.live();
    const definition =
      filled.own?.schema === schema
        ? filled.own
        : filled.live?.definition.schema === schema
          ? filled.live.definition
          : defineCollection(filled.declared, schema);
    filled.live = { definition, until: Date.now() + LIVE_TTL_MS };
    return definition;
  }

  /**
   * Runs a read on the live copy; once more on a fresh lookup when the copy
   * it knew is gone (a retired version's schema dropped since).
   */
  async readLive<R>(
    name: string,
    read: (definition: CollectionDefinition) => Promise<R>,
  ): Promise<R> {
    const definition = await this.live(name);
    try {
      return await read(definition);
    } catch (error) {
      if (sqlStateOf(error) !== UNDEFINED_TABLE) throw error;
      this.filled(name).live = undefined;
      return read(await this.live(name));
    }
  }

  /** Every copy this app knows of: its own and the live one (for forgetting a subject). */
  async copies(): Promise<CollectionDefinition[]> {
    const all = new Map<string, CollectionDefinition>();
    for (const [name, filled] of this.byName) {
      if (filled.own) all.set(filled.own.table, filled.own);
      filled.live = undefined;
      const live = await this.live(name);
      all.set(live.table, live);
    }
    return [...all.values()];
  }

  /** This app's versions' own copies: each follows forgotten subjects with a watermark of its schema's. */
  ownCopies(): CollectionDefinition[] {
    return [...this.byName.values()].flatMap((f) => (f.own ? [f.own] : []));
  }

  /** One copy of each collection, for what does not depend on the schema (its fields). */
  definitions(): CollectionDefinition[] {
    return [...this.byName.values()].map((f) => f.shape);
  }

  private filled(name: string): FilledCollection {
    const filled = this.byName.get(name);
    if (!filled)
      throw new Error(`Collection "${name}" is not filled by a consumer`);
    return filled;
  }
}
