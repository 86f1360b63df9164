import { ChronicleError } from '../messages/index.js';

/** A `@Consumer` class is declared in a way that cannot run. */
export class ConsumerDefinitionError extends ChronicleError {
  readonly code = 'CONSUMER_DEFINITION';
}

/**
 * A class in a consumer's `tables` cannot be made one of its tables: it is
 * not an entity of the consumer's TypeORM DataSource, or it names a schema.
 */
export class EntityTableError extends ChronicleError {
  readonly code = 'CONSUMER_ENTITY_TABLE';

  constructor(
    readonly consumer: string,
    readonly entity: string,
    reason: string,
  ) {
    super(`Consumer "${consumer}" declares table ${entity}, which ${reason}.`);
  }
}

/** Two classes claim the same consumer name. */
export class DuplicateConsumerError extends ChronicleError {
  readonly code = 'DUPLICATE_CONSUMER';

  constructor(
    readonly consumer: string,
    first: string,
    second: string,
  ) {
    super(
      `Consumer "${consumer}" is declared by both ${first} and ${second}. ` +
        'Its name keys its stored positions: give each consumer its own name.',
    );
  }
}

/** `reset` or `health` named a consumer this app does not declare. */
export class ConsumerNotFoundError extends ChronicleError {
  readonly code = 'CONSUMER_NOT_FOUND';

  constructor(
    readonly consumer: string,
    known: readonly string[],
  ) {
    super(
      `No @Consumer named "${consumer}" in this app` +
        (known.length ? ` (it has: ${known.join(', ')})` : '') +
        '. Declare the class as a provider of a module the app imports.',
    );
  }
}

/** The stored positions were written with another number of segments. */
/** A consumer's split of the log as stored or declared. */
export interface Segmentation {
  readonly count: number;
  readonly sequencedBy: 'stream' | 'key';
}

export class ConsumerSegmentsChangedError extends ChronicleError {
  readonly code = 'CONSUMER_SEGMENTS_CHANGED';

  constructor(
    readonly consumer: string,
    readonly stored: Segmentation,
    readonly declared: Segmentation,
    /** Why it was not redrawn: the consumer refuses, another instance runs it, or it holds parked streams. */
    readonly reason: 'declared' | 'running' | 'parked',
  ) {
    const split = (s: Segmentation) =>
      `${s.count} segments by ${s.sequencedBy}`;
    const what = `Consumer "${consumer}" has positions for ${split(stored)} but declares ${split(declared)}. `;
    super(
      reason === 'running'
        ? what +
            'Another instance still runs it with the old split: stop every instance of the old version, then start the new one.'
        : reason === 'parked'
          ? what +
            'It holds parked streams, kept by the old segments: retry or drop them (DeadLetters, or npx chronicle dead-letters), then start again.'
          : what +
            'Events would move between segments and lose their order. Stop every instance, delete its rows ' +
            `(DELETE FROM consumer_positions WHERE consumer = '${consumer}'), clear its projection, and start again to replay it.`,
    );
  }
}

/** `context.entityManager()` was called where no TypeORM DataSource shares Chronicle's database. */
export class EntityManagerUnavailableError extends ChronicleError {
  readonly code = 'ENTITY_MANAGER_UNAVAILABLE';

  constructor(
    readonly consumer: string,
    reason: string,
  ) {
    super(
      `Consumer "${consumer}" asked for a TypeORM EntityManager, but ${reason}. ` +
        'Import TypeOrmModule.forRoot with the same PostgreSQL database as Chronicle, or write through context.sql(). ' +
        'A projection kept in another database cannot share the position transaction: it gets at-least-once delivery.',
    );
  }
}

/** A reset target that is neither 'beginning', a position nor a valid Date. */
export class InvalidResetTargetError extends ChronicleError {
  readonly code = 'INVALID_RESET_TARGET';
}

/** `retry` or `drop` named a stream that is not parked for that consumer. */
export class StreamNotParkedError extends ChronicleError {
  readonly code = 'STREAM_NOT_PARKED';

  constructor(
    readonly consumer: string,
    readonly stream: string,
  ) {
    super(
      `Stream "${stream}" is not parked for consumer "${consumer}". ` +
        'List what is parked with DeadLetters.list (npx chronicle dead-letters list <consumer>).',
    );
  }
}

/** A read asked for the tables of a consumer that declares none. */
export class NoConsumerTablesError extends ChronicleError {
  readonly code = 'NO_CONSUMER_TABLES';

  constructor(readonly consumer: string) {
    super(
      `Consumer "${consumer}" declares no tables, so it has no schema of its own: ` +
        "declare them with @Consumer('" +
        consumer +
        "', { tables: ['CREATE TABLE ...'] }), or read its tables by their own names.",
    );
  }
}
