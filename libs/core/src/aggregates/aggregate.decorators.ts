import 'reflect-metadata';
import type { MessageClass } from '../messages/index.js';

const AGGREGATE_METADATA = 'chronicle:aggregate';
const APPLY_METADATA = 'chronicle:apply';

export interface AggregateOptions {
  /**
   * The aggregate's stable type name, the first part of its stream ids
   * (`orders.Order` gives streams `orders.Order-<id>`). Default: the class name;
   * set it explicitly so that renaming the class never orphans its streams.
   */
  readonly type?: string;
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
  return (target) => {
    Reflect.defineMetadata(
      AGGREGATE_METADATA,
      { type: resolved.type ?? target.name },
      target,
    );
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
  const info = Reflect.getMetadata(AGGREGATE_METADATA, target) as
    { type: string } | undefined;
  return info?.type;
}

export function applyBindingsOf(prototype: object): readonly ApplyBinding[] {
  return Reflect.getMetadata(APPLY_METADATA, prototype) ?? [];
}
