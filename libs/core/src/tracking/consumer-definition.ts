import type { Checkpoint, StoredEvent } from '../store/index.js';
import type { ConsumerContext } from './consumer-context.js';
import type { ResolvedConsumerOptions } from './consumer.options.js';
import type { TransactionOpener } from './open-transaction.js';

export interface EventHandlerFn {
  (
    event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): unknown;
  /** `consumer:<consumer>:<method>`: in derived ids and error messages. */
  readonly handlerName?: string;
}

/**
 * Tells a rebuilding version's segments which events are history: those the
 * live version has handled already (at or below its lowest checkpoint), whose
 * commands and schedules were sent then and must not be sent again.
 */
export interface ReplayGate {
  /** The live version's lowest checkpoint while this version is building; else undefined. */
  horizon(): Promise<Checkpoint | undefined>;
}

export type ResetHookFn = (context: ConsumerContext) => unknown;

/** A `@Consumer` as found at bootstrap: what it handles and how its transactions open. */
export interface ConsumerDefinition {
  readonly name: string;
  readonly className: string;
  readonly options: ResolvedConsumerOptions;
  /** The stored type names it reads (the log is filtered to these). */
  readonly types: readonly string[];
  readonly handlers: ReadonlyMap<string, readonly EventHandlerFn[]>;
  readonly resetHooks: readonly ResetHookFn[];
  readonly opener: TransactionOpener;
  /**
   * The schema of its declared tables (created at start, first in its
   * transactions' search_path, emptied by a reset to the beginning); absent
   * when it declares none.
   */
  readonly schema?: string;
  /** The DDL of its declared tables in one schema (entities' DDL follows the schema). */
  readonly tableStatements?: (schema: string) => Promise<string[]>;
  /** The schema of one of its versions (the same naming, another version). */
  readonly schemaOf?: (version: number) => string;
  /**
   * The name it was declared with, when `name` is a version's tracked name
   * (`stock-levels@v2`, what its positions are kept under).
   */
  readonly consumer?: string;
  /** Set while a version is rebuilt beside the live one (blue-green). */
  readonly replay?: ReplayGate;
  /** Why `context.entityManager()` cannot work for it, when it cannot. */
  readonly noEntityManager?: string;
}
