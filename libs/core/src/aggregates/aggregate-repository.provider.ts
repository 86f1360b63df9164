import { Inject, type Provider } from '@nestjs/common';
import { UnitOfWork } from '../handling/index.js';
import { EventUpcaster } from '../messages/index.js';
import { EventStore } from '../store/index.js';
import { Telemetry } from '../telemetry/index.js';
import type { AggregateRoot } from './aggregate-root.js';
import {
  AggregateRepository,
  type AggregateClass,
} from './aggregate-repository.js';
import { AggregateCache } from './cache/aggregate-cache.js';
import { SnapshotWriter } from './snapshots/snapshot-writer.js';

const tokens = new WeakMap<object, symbol>();
const classes = new Map<symbol, AggregateClass<AggregateRoot>>();

/** The injection token of the repository of one aggregate class. */
export function aggregateRepositoryToken(
  target: AggregateClass<AggregateRoot>,
): symbol {
  let token = tokens.get(target);
  if (!token) {
    token = Symbol(`AggregateRepository<${target.name}>`);
    tokens.set(target, token);
    classes.set(token, target);
  }
  return token;
}

/** Injects the `AggregateRepository` of an aggregate class listed in `ChronicleModule.forFeature`. */
export function InjectAggregateRepository(
  target: AggregateClass<AggregateRoot>,
): PropertyDecorator & ParameterDecorator {
  return Inject(aggregateRepositoryToken(target));
}

export function aggregateRepositoryProvider(
  target: AggregateClass<AggregateRoot>,
): Provider {
  return {
    provide: aggregateRepositoryToken(target),
    useFactory: (
      store: EventStore,
      unitOfWork: UnitOfWork,
      upcaster: EventUpcaster,
      cache: AggregateCache,
      snapshots: SnapshotWriter,
      telemetry: Telemetry,
    ) =>
      new AggregateRepository(target, store, unitOfWork, {
        upcaster,
        cache,
        snapshots,
        telemetry,
      }),
    inject: [
      EventStore,
      UnitOfWork,
      EventUpcaster,
      AggregateCache,
      SnapshotWriter,
      Telemetry,
    ],
  };
}

/** The aggregate class whose repository a token provides (the CLI finds aggregates in Nest modules with it). */
export function aggregateClassOfToken(
  token: unknown,
): AggregateClass<AggregateRoot> | undefined {
  return typeof token === 'symbol' ? classes.get(token) : undefined;
}
