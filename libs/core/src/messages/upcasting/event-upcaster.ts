import { Injectable } from '@nestjs/common';
import type { Envelope } from '../envelope.js';
import {
  UnknownMessageTypeError,
  UnsupportedRevisionError,
} from '../message-type.errors.js';
import { MessageTypeRegistry } from '../message-type.registry.js';
import { payloadReaderOf, type PayloadReader } from '../serialization.js';
import {
  upcasterBindingsOf,
  type UpcastFunction,
  type UpcastResult,
  type UpcastedEvent,
} from './upcaster.decorator.js';
import {
  DuplicateUpcasterError,
  UpcastFailedError,
} from './upcasting.errors.js';

/**
 * What the upcaster reads: a stored event (`StoredEvent` from the store fits),
 * with the global position that errors name.
 */
export type UpcastableEvent = Envelope<Record<string, unknown>> & {
  readonly position: bigint;
};

export interface UpcastOptions {
  /**
   * What to do with an event whose type no class in this process declares, or
   * whose revision is newer than the class's: `'error'` (the default; aggregates
   * always use it) or `'skip'` (a consumer that reads the whole log and handles
   * only some types).
   */
  readonly onUnknown?: 'error' | 'skip';
}

interface Registered {
  readonly fn: UpcastFunction;
  readonly source: string;
}

// A chain longer than this is a cycle (A renamed to B renamed back to A...).
const MAX_STEPS = 1000;

/**
 * The chain of upcasters of this application: every read path (aggregate
 * loading, consumers, replay, the CLI) routes stored events through `upcast`
 * before turning them into class instances. Stored rows are never rewritten;
 * old revisions are upgraded on every read, in memory.
 *
 * In a Nest app it is filled at bootstrap from `@Upcaster` methods of
 * providers, and injectable as `EventUpcaster`. Elsewhere, build one with
 * `EventUpcaster.of(new MyUpcasters())`.
 */
@Injectable()
export class EventUpcaster {
  private readonly upcasters = new Map<string, Registered>();

  /** An upcaster holding the `@Upcaster` methods of these objects. */
  static of(...holders: readonly object[]): EventUpcaster {
    const upcaster = new EventUpcaster();
    for (const holder of holders) upcaster.register(holder);
    return upcaster;
  }

  /** Adds every `@Upcaster` method of an object, bound to it. */
  register(holder: object): this {
    for (const { type, fromRevision, method } of upcasterBindingsOf(holder)) {
      const fn = (holder as Record<string | symbol, UpcastFunction>)[method];
      this.add(
        type,
        fromRevision,
        fn.bind(holder),
        `${holder.constructor.name}.${String(method)}`,
      );
    }
    return this;
  }

  /** Adds one upcaster function for `type` at `fromRevision`. */
  add(
    type: string,
    fromRevision: number,
    fn: UpcastFunction,
    source = fn.name || 'an upcaster function',
  ): this {
    const key = keyOf(type, fromRevision);
    const existing = this.upcasters.get(key);
    if (existing) {
      throw new DuplicateUpcasterError(
        type,
        fromRevision,
        existing.source,
        source,
      );
    }
    this.upcasters.set(key, { fn, source });
    return this;
  }

  /** The stored types that have an upcaster: readers that filter by type must read them too. */
  sourceTypes(): string[] {
    const types = [...this.upcasters.keys()].map((key) =>
      key.slice(key.indexOf(':') + 1),
    );
    return [...new Set(types)];
  }

  /** How many upcasters are registered. */
  get size(): number {
    return this.upcasters.size;
  }

  /**
   * Brings stored events to the shapes this code declares: each event goes
   * through its chain of upcasters (and may become several, or none), then its
   * type and revision are checked against the registered event classes. An
   * unknown type or a too new revision raises `UnknownMessageTypeError` /
   * `UnsupportedRevisionError` naming type, revision and position, unless
   * `onUnknown: 'skip'`. Events keep their stream version and position, so a
   * split event's parts share them.
   */
  upcast<E extends UpcastableEvent>(
    events: readonly E[],
    options: UpcastOptions = {},
  ): E[] {
    const out: E[] = [];
    for (const event of events) {
      for (const upcasted of this.upcastOne(event, options)) out.push(upcasted);
    }
    return out;
  }

  /**
   * How to rebuild events stored as `type` at `revision` when nothing is to be
   * done to them first: no upcaster covers that revision, and the type is a
   * registered event class of that revision or newer. `undefined` otherwise:
   * such events must go through `upcastOne` (which upcasts them, or raises the
   * error that names them). Readers that rebuild many events (aggregate
   * loading) ask once per type and revision of a read, not per event.
   */
  directReaderOf(type: string, revision: number): PayloadReader | undefined {
    if (this.upcasters.size > 0 && this.upcasters.has(keyOf(type, revision))) {
      return undefined;
    }
    const info = MessageTypeRegistry.forName(type);
    if (!info || info.kind !== 'event' || revision > info.revision) {
      return undefined;
    }
    return payloadReaderOf(info.target);
  }

  /**
   * Raises the error `upcastOne` raises for an event no upcaster covers and
   * that cannot be read as it is (unknown type, too new revision); does
   * nothing for a readable one.
   */
  checkReadable(event: {
    readonly type: string;
    readonly revision: number;
    readonly position: bigint;
  }): void {
    this.check(event, {});
  }

  /** `upcast` for one event: what it became, in order. */
  upcastOne<E extends UpcastableEvent>(
    event: E,
    options: UpcastOptions = {},
  ): readonly E[] {
    // The common case, kept allocation-light: nothing to upcast.
    if (
      this.upcasters.size === 0 ||
      !this.upcasters.has(keyOf(event.type, event.revision))
    ) {
      return this.check(event, options) ? [event] : [];
    }
    const done: E[] = [];
    const pending: E[] = [event];
    let steps = 0;
    while (pending.length > 0) {
      const current = pending.shift() as E;
      const upcaster = this.upcasters.get(
        keyOf(current.type, current.revision),
      );
      if (!upcaster) {
        if (this.check(current, options)) done.push(current);
        continue;
      }
      if (++steps > MAX_STEPS) {
        throw new UpcastFailedError(
          event.type,
          event.revision,
          event.position,
          `more than ${MAX_STEPS} upcasting steps; do the upcasters form a cycle?`,
        );
      }
      const next = this.apply(upcaster, current);
      // Depth first, so a split event's parts keep their order.
      pending.unshift(...next);
    }
    return done;
  }

  private apply<E extends UpcastableEvent>(
    upcaster: Registered,
    event: E,
  ): E[] {
    let result: UpcastResult;
    try {
      result = upcaster.fn({
        type: event.type,
        revision: event.revision,
        payload: event.payload,
        metadata: event.metadata,
      });
    } catch (error) {
      throw new UpcastFailedError(
        event.type,
        event.revision,
        event.position,
        `${upcaster.source} threw: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (result === null || result === undefined) return [];
    const results: readonly UpcastedEvent[] = Array.isArray(result)
      ? result
      : [result as UpcastedEvent];
    return results.map((r) => {
      if (
        !r ||
        typeof r !== 'object' ||
        !r.payload ||
        typeof r.payload !== 'object'
      ) {
        throw new UpcastFailedError(
          event.type,
          event.revision,
          event.position,
          `${upcaster.source} must return { payload }, an array of them, or null`,
        );
      }
      const type = r.type ?? event.type;
      const revision =
        r.revision ?? (type === event.type ? event.revision + 1 : 1);
      if (type === event.type && revision <= event.revision) {
        throw new UpcastFailedError(
          event.type,
          event.revision,
          event.position,
          `${upcaster.source} returned revision ${revision}; an upcaster must move the revision forward`,
        );
      }
      return { ...event, type, revision, payload: r.payload };
    });
  }

  /** Whether a fully upcast event can be read; throws when it cannot and skipping is off. */
  private check(
    event: Pick<UpcastableEvent, 'type' | 'revision' | 'position'>,
    options: UpcastOptions,
  ): boolean {
    const info = MessageTypeRegistry.forName(event.type);
    if (!info || info.kind !== 'event') {
      if (options.onUnknown === 'skip') return false;
      throw new UnknownMessageTypeError(
        event.type,
        event.revision,
        event.position,
      );
    }
    // An older revision with no upcaster is read as it is: the shape changed
    // compatibly (a new optional field). A newer one was written by newer code.
    if (event.revision > info.revision) {
      if (options.onUnknown === 'skip') return false;
      throw new UnsupportedRevisionError(
        event.type,
        event.revision,
        info.revision,
        event.position,
      );
    }
    return true;
  }
}

function keyOf(type: string, revision: number): string {
  return `${revision}:${type}`;
}
