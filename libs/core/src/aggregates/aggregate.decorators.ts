import 'reflect-metadata';
import type { MessageClass } from '../messages/index.js';
import type { SnapshotPolicy } from './snapshots/snapshot-policy.js';

const AGGREGATE_METADATA = 'chronicle:aggregate';
const APPLY_METADATA = 'chronicle:apply';

export interface AggregateOptions {
  /**
   * The aggregate's stable type name, the first part of its stream ids
   * (`orders.Order` gives streams `orders.Order-<id>`). Default: the class name;
   * set it explicitly so that renaming the class never orphans its streams.
   */
  readonly type?: string;
  /**
   * When to snapshot the aggregate after a command commits: a number N means
   * "once N events or more were stored since the last snapshot"; a function
   * decides for itself. Default: never.
   */
  readonly snapshotEvery?: number | SnapshotPolicy;
  /**
   * The revision of the aggregate's snapshot shape (its fields). Bump it when
   * the state's fields change: snapshots of another revision are ignored and
   * rebuilt from the events, never misread. Default 1.
   */
  readonly snapshotRevision?: number;
}

/** An aggregate class's options with defaults filled in. */
export interface AggregateDefinition {
  readonly type: string;
  readonly snapshotPolicy?: SnapshotPolicy;
  readonly snapshotRevision: number;
}

export interface ApplyBinding {
  readonly event: MessageClass;
  readonly method: string | symbol;
}

/** Marks an event-sourced aggregate class and names its streams. */
export function Aggregate(
  options: AggregateOptions | string = {},
): ClassDecorator {
  const resolved = typeof options === 'string' ? { type: options } : options;
  const { snapshotEvery, snapshotRevision = 1 } = resolved;
  if (
    typeof snapshotEvery === 'number' &&
    (!Number.isInteger(snapshotEvery) || snapshotEvery < 1)
  ) {
    throw new TypeError(
      `snapshotEvery must be a positive integer or a function, got ${snapshotEvery}`,
    );
  }
  if (!Number.isInteger(snapshotRevision) || snapshotRevision < 1) {
    throw new TypeError(
      `snapshotRevision must be a positive integer, got ${snapshotRevision}`,
    );
  }
  const snapshotPolicy: SnapshotPolicy | undefined =
    typeof snapshotEvery === 'number'
      ? ({ version, lastSnapshotVersion }) =>
          version - lastSnapshotVersion >= snapshotEvery
      : snapshotEvery;
  return (target) => {
    const definition: AggregateDefinition = {
      type: resolved.type ?? target.name,
      snapshotPolicy,
      snapshotRevision,
    };
    Reflect.defineMetadata(AGGREGATE_METADATA, definition, target);
  };
}

/**
 * Marks a method that evolves the aggregate's state from one event type. It
 * runs when the aggregate applies a new event and when it is rebuilt from its
 * stream, and must do nothing but change state.
 */
export function Apply(event: MessageClass): MethodDecorator {
  return (target, method) => {
    const inherited: ApplyBinding[] =
      Reflect.getMetadata(APPLY_METADATA, target) ?? [];
    Reflect.defineMetadata(
      APPLY_METADATA,
      [...inherited, { event, method }],
      target,
    );
  };
}

export function aggregateTypeOf(
  target: abstract new () => object,
): string | undefined {
  return aggregateDefinitionOf(target)?.type;
}

/** The `@Aggregate` options of a class, or `undefined` if it is not decorated. */
export function aggregateDefinitionOf(
  target: abstract new () => object,
): AggregateDefinition | undefined {
  return Reflect.getMetadata(AGGREGATE_METADATA, target) as
    AggregateDefinition | undefined;
}

export function applyBindingsOf(prototype: object): readonly ApplyBinding[] {
  return Reflect.getMetadata(APPLY_METADATA, prototype) ?? [];
}
