import type { UnitOfWork } from '../handling/index.js';
import {
  fromPayload,
  MessageTypeRegistry,
  UnknownMessageTypeError,
  UnsupportedRevisionError,
} from '../messages/index.js';
import type { EventStore, StoredEvent } from '../store/index.js';
import { aggregateInternals, type AggregateRoot } from './aggregate-root.js';
import { aggregateTypeOf } from './aggregate.decorators.js';
import {
  AggregateNotFoundError,
  NotAnAggregateError,
} from './aggregate.errors.js';

/** An aggregate class: constructed without arguments, then rebuilt from its events. */
export type AggregateClass<T extends AggregateRoot> = new () => T;

export interface LoadOptions {
  /** Rebuild the aggregate as it stood at this stream version (time travel). */
  readonly atVersion?: number;
  /**
   * Rebuild it as it stood at this point of the log: only its events at or
   * before this global position, or stored at or before this time.
   */
  readonly until?: bigint | number | Date;
}

/**
 * Loads aggregates of one type from their streams and saves what they did.
 * Inject it with `@InjectAggregateRepository(Order)` after listing the class
 * in `ChronicleModule.forFeature([Order])`.
 */
export class AggregateRepository<T extends AggregateRoot> {
  /** The aggregate's type name, the prefix of its stream ids. */
  readonly aggregateType: string;

  constructor(
    private readonly target: AggregateClass<T>,
    private readonly store: EventStore,
    private readonly unitOfWork: UnitOfWork,
  ) {
    const type = aggregateTypeOf(target);
    if (!type) throw new NotAnAggregateError(target.name);
    this.aggregateType = type;
  }

  /** The stream that holds the aggregate with this id. */
  streamId(id: string): string {
    return `${this.aggregateType}-${id}`;
  }

  /** Rebuilds an aggregate from its stream; `AggregateNotFoundError` if it has none. */
  async load(id: string, options: LoadOptions = {}): Promise<T> {
    const aggregate = await this.find(id, options);
    if (!aggregate) throw new AggregateNotFoundError(this.aggregateType, id);
    return aggregate;
  }

  /** Rebuilds an aggregate from its stream, or `undefined` if it has none. */
  async find(id: string, options: LoadOptions = {}): Promise<T | undefined> {
    const aggregate = this.create(id);
    const stream = this.store.readStream(this.streamId(id), {
      toVersion: options.atVersion,
    });
    const until = options.until;
    for await (const event of stream) {
      // A stream's positions and timestamps grow with its versions: stop at the first one past.
      if (
        until instanceof Date
          ? event.timestamp > until
          : until !== undefined && event.position > BigInt(until)
      )
        break;
      aggregateInternals.replay(aggregate, event.type, this.rebuild(event));
    }
    return aggregate.version === 0 ? undefined : aggregate;
  }

  /** Loads the aggregate, or a new one with that id when its stream is empty. */
  async loadOrCreate(id: string): Promise<T> {
    return (await this.find(id)) ?? this.create(id);
  }

  /** A new, empty aggregate with this id; saving it requires that its stream does not exist yet. */
  create(id: string): T {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError(
        `An ${this.aggregateType} id must be a non-empty string`,
      );
    }
    const aggregate = new this.target();
    aggregateInternals.setId(aggregate, id);
    return aggregate;
  }

  /**
   * Stores the events the aggregate applied since it was loaded, expecting its
   * stream to be still at the loaded version. In a command handler they are
   * written when the handler returns, with the command; elsewhere, at once.
   */
  async save(aggregate: T): Promise<void> {
    const expected = aggregate.version === 0 ? 'noStream' : aggregate.version;
    const events = aggregateInternals.takeUncommitted(aggregate);
    if (events.length === 0) return;
    await this.unitOfWork.append(this.streamId(aggregate.id), events, expected);
    aggregateInternals.setVersion(aggregate, aggregate.version + events.length);
  }

  private rebuild(event: StoredEvent): object {
    const info = MessageTypeRegistry.forName(event.type);
    if (!info) {
      throw new UnknownMessageTypeError(
        event.type,
        event.revision,
        event.position,
      );
    }
    if (event.revision > info.revision) {
      throw new UnsupportedRevisionError(
        event.type,
        event.revision,
        info.revision,
        event.position,
      );
    }
    return fromPayload(info.target, event.payload);
  }
}
