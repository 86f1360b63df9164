import { Inject, type Provider } from '@nestjs/common';
import { UnitOfWork } from '../handling/index.js';
import { EventStore } from '../store/index.js';
import type { AggregateRoot } from './aggregate-root.js';
import {
  AggregateRepository,
  type AggregateClass,
} from './aggregate-repository.js';

const tokens = new WeakMap<object, symbol>();

/** The injection token of the repository of one aggregate class. */
export function aggregateRepositoryToken(
  target: AggregateClass<AggregateRoot>,
): symbol {
  let token = tokens.get(target);
  if (!token) {
    token = Symbol(`AggregateRepository<${target.name}>`);
    tokens.set(target, token);
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
    useFactory: (store: EventStore, unitOfWork: UnitOfWork) =>
      new AggregateRepository(target, store, unitOfWork),
    inject: [EventStore, UnitOfWork],
  };
}
