import 'reflect-metadata';
import type { MessageMetadata } from '../envelope.js';

const UPCASTER_METADATA = 'chronicle:upcasters';

/** A stored event as an upcaster sees it: plain JSON, never a class instance. */
export interface EventData {
  readonly type: string;
  readonly revision: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly metadata: MessageMetadata;
}

/**
 * What an upcaster makes of one event. `type` defaults to the input's type;
 * `revision` defaults to the next revision of the same type, or to 1 when the
 * type is renamed (a renamed type starts its own history).
 */
export interface UpcastedEvent {
  readonly type?: string;
  readonly revision?: number;
  readonly payload: Record<string, unknown>;
}

/**
 * One event in, zero or more out: `{ payload }` for the common reshaping, an
 * array to split it, `null` (or `[]`) to drop it. Synchronous on purpose: it
 * runs on every read of every event of its type and revision.
 */
export type UpcastResult = UpcastedEvent | readonly UpcastedEvent[] | null;

export type UpcastFunction = (event: EventData) => UpcastResult;

export interface UpcasterBinding {
  readonly type: string;
  readonly fromRevision: number;
  readonly method: string | symbol;
}

/**
 * Marks a method that turns stored `type` events of revision `fromRevision`
 * into revision `fromRevision + 1` (or into other types). Put it on an
 * `@Injectable()` class listed as a provider: Chronicle finds it at bootstrap,
 * like an `@EventsHandler`. The decorator only records metadata.
 */
export function Upcaster(type: string, fromRevision: number): MethodDecorator {
  if (!type || typeof type !== 'string') {
    throw new TypeError('@Upcaster needs the stored event type name');
  }
  if (!Number.isInteger(fromRevision) || fromRevision < 1) {
    throw new TypeError(
      `@Upcaster('${type}', ${fromRevision}): the revision must be a positive integer`,
    );
  }
  return (target, method) => {
    const inherited: UpcasterBinding[] =
      Reflect.getMetadata(UPCASTER_METADATA, target) ?? [];
    Reflect.defineMetadata(
      UPCASTER_METADATA,
      [...inherited, { type, fromRevision, method }],
      target,
    );
  };
}

/** The `@Upcaster` methods declared on an instance's class (and the classes it extends). */
export function upcasterBindingsOf(
  instance: object,
): readonly UpcasterBinding[] {
  const prototype = Object.getPrototypeOf(instance) as object | null;
  if (!prototype) return [];
  return Reflect.getMetadata(UPCASTER_METADATA, prototype) ?? [];
}
