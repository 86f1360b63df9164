import { instanceToPlain, plainToInstance } from 'class-transformer';
import {
  MessageTypeRegistry,
  messageTypeOf,
  UnregisteredMessageError,
} from '../messages/index.js';
import { applyBindingsOf } from './aggregate.decorators.js';

export type Evolve = (this: AggregateRoot, event: object) => void;

/** Per aggregate class: event type name to the @Apply method that evolves state. */
const evolversByClass = new WeakMap<object, Map<string, Evolve>>();

function evolversOf(aggregate: AggregateRoot): Map<string, Evolve> {
  const prototype = Object.getPrototypeOf(aggregate) as object;
  let evolvers = evolversByClass.get(prototype);
  if (!evolvers) {
    evolvers = new Map();
    for (const { event, method } of applyBindingsOf(prototype)) {
      const info = MessageTypeRegistry.forClass(event);
      if (!info) throw new UnregisteredMessageError(event.name, 'Event');
      const fn = (prototype as Record<string | symbol, Evolve>)[method];
      evolvers.set(info.name, fn);
    }
    evolversByClass.set(prototype, evolvers);
  }
  return evolvers;
}

/** Internal handles for the repository; not part of the public API. */
export const aggregateInternals = {
  /** Evolves state from a stored event, without recording it as new (nor counting it: see setVersion). */
  replay(aggregate: AggregateRoot, typeName: string, event: object): void {
    evolversOf(aggregate).get(typeName)?.call(aggregate, event);
  },
  /** The @Apply method of this event type, for a replay loop to look up once. */
  evolverOf(aggregate: AggregateRoot, typeName: string): Evolve | undefined {
    return evolversOf(aggregate).get(typeName);
  },
  /** The state to snapshot and cache, from the aggregate's `toSnapshot()`. */
  capture(aggregate: AggregateRoot): unknown {
    return aggregate['toSnapshot']();
  },
  /** Puts a captured state into a new aggregate, through its `fromSnapshot()`. */
  restore(aggregate: AggregateRoot, state: unknown): void {
    aggregate['fromSnapshot'](state);
  },
  setId(aggregate: AggregateRoot, id: string): void {
    aggregate['_id'] = id;
  },
  setVersion(aggregate: AggregateRoot, version: number): void {
    aggregate['_version'] = version;
  },
  takeUncommitted(aggregate: AggregateRoot): object[] {
    const events = aggregate['_uncommitted'];
    aggregate['_uncommitted'] = [];
    return events;
  },
};

/**
 * An aggregate's state as its snapshots and the cache keep it (what its
 * `toSnapshot()` returns): for inspection, logs and the `show` command.
 */
export function aggregateStateOf(aggregate: AggregateRoot): unknown {
  return aggregateInternals.capture(aggregate);
}

/** The base class's own fields: never part of a snapshot. */
const INTERNAL_FIELDS = new Set(['_id', '_version', '_uncommitted']);

/**
 * The base of event-sourced aggregates. Decide in methods that check the
 * current state, then `this.apply(new SomethingHappened(...))`: the event's
 * `@Apply` method changes the state at once, and the repository stores the
 * event on `save()`. State is only ever changed by `@Apply` methods, so
 * rebuilding from the stream gives the same state.
 */
export abstract class AggregateRoot {
  private _id = '';
  private _version = 0;
  private _uncommitted: object[] = [];

  /** The aggregate's id: the part of the stream id after its type. */
  get id(): string {
    return this._id;
  }

  /** How many events of this aggregate are stored (its stream version when loaded). */
  get version(): number {
    return this._version;
  }

  /** Events applied since the aggregate was loaded, not stored yet. */
  get uncommittedEvents(): readonly object[] {
    return this._uncommitted;
  }

  /**
   * The aggregate's state as JSON-ready data, for snapshots and the aggregate
   * cache. Default: class-transformer's `instanceToPlain` of its fields
   * (honouring `@Exclude`, `@Expose`, `@Transform`), without id and version.
   * Override it with `fromSnapshot` when the state holds what JSON cannot
   * (a `Map`, a `Date` without `@Type`), and bump `snapshotRevision` whenever
   * the shape changes.
   */
  protected toSnapshot(): unknown {
    const plain = instanceToPlain(this) as Record<string, unknown>;
    for (const field of INTERNAL_FIELDS) delete plain[field];
    return plain;
  }

  /**
   * Sets the state of a freshly constructed aggregate from what `toSnapshot`
   * returned (parsed back from JSON). Default: class-transformer's
   * `plainToInstance` of the class, copied field by field, so nested classes
   * need `@Type(() => ...)` as usual.
   */
  protected fromSnapshot(state: unknown): void {
    const restored = plainToInstance(
      this.constructor as new () => object,
      state as Record<string, unknown>,
    ) as Record<string, unknown>;
    const self = this as unknown as Record<string, unknown>;
    for (const field of Object.keys(restored)) {
      if (!INTERNAL_FIELDS.has(field)) self[field] = restored[field];
    }
  }

  /** Records a new event and evolves the state with its `@Apply` method. */
  protected apply(event: object): void {
    const { name } = messageTypeOf(event, 'event');
    evolversOf(this).get(name)?.call(this, event);
    this._uncommitted.push(event);
  }
}
