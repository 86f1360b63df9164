import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  aggregateClassOfToken,
  aggregateDefinitionOf,
  type AggregateClass,
  type AggregateRoot,
} from '../aggregates/index.js';
import { EventUpcaster, upcasterBindingsOf } from '../messages/index.js';

/** What the CLI found in the user's built code. */
export interface AppClasses {
  readonly aggregates: ReadonlyMap<string, AggregateClass<AggregateRoot>>;
  readonly upcaster: EventUpcaster;
}

type Constructor = new () => object;

/**
 * Imports a built JS file (`--module`) and collects what rebuilding state
 * needs: the aggregate classes and the upcasters. It accepts a file that
 * exports the classes themselves, or one that exports a Nest module (e.g.
 * `AppModule`): then it walks the module's `imports` and `providers` the way
 * Nest would, finding aggregates listed in `ChronicleModule.forFeature` and
 * `@Upcaster` providers. Nothing is bootstrapped and no database is opened;
 * upcaster classes must therefore be constructible without arguments.
 */
export async function loadAppClasses(path: string): Promise<AppClasses> {
  const exports = (await import(pathToFileURL(resolve(path)).href)) as Record<
    string,
    unknown
  >;
  const aggregates = new Map<string, AggregateClass<AggregateRoot>>();
  const upcasters = new Set<Constructor>();
  const seen = new Set<unknown>();

  const visit = (value: unknown): void => {
    if (!value || seen.has(value)) return;
    seen.add(value);
    if (typeof value === 'object') {
      // A dynamic module ({ module, imports, providers }) or a provider object.
      const record = value as Record<string, unknown>;
      const fromToken = aggregateClassOfToken(record.provide);
      if (fromToken) visit(fromToken);
      for (const key of ['module', 'useClass'] as const) visit(record[key]);
      for (const key of ['imports', 'providers'] as const) {
        if (Array.isArray(record[key]))
          (record[key] as unknown[]).forEach(visit);
      }
      return;
    }
    if (typeof value !== 'function') return;
    const target = value as Constructor;
    const definition = aggregateDefinitionOf(target);
    if (definition) {
      aggregates.set(definition.type, target as AggregateClass<AggregateRoot>);
    }
    if (
      target.prototype &&
      upcasterBindingsOf(Object.create(target.prototype) as object).length > 0
    ) {
      upcasters.add(target);
    }
    for (const key of ['imports', 'providers']) {
      const listed: unknown = Reflect.getMetadata(key, target);
      if (Array.isArray(listed)) listed.forEach(visit);
    }
  };
  Object.values(exports).forEach(visit);

  const upcaster = new EventUpcaster();
  for (const target of upcasters) upcaster.register(new target());
  return { aggregates, upcaster };
}
