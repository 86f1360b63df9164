import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import {
  aggregateClassOfToken,
  aggregateDefinitionOf,
  type AggregateRepository,
  type AggregateRoot,
} from '@chronicle/core';

/**
 * The aggregates this app registered (`ChronicleModule.forFeature`), by their
 * stable type name, with the app's own repositories: the console rebuilds
 * state with the app's upcasters and personal-data cipher, as a handler would.
 */
@Injectable()
export class AggregateTypes implements OnApplicationBootstrap {
  private readonly byType = new Map<
    string,
    AggregateRepository<AggregateRoot>
  >();

  constructor(
    private readonly modules: ModulesContainer,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    for (const module of this.modules.values()) {
      for (const token of module.providers.keys()) {
        const target = aggregateClassOfToken(token);
        const definition = target && aggregateDefinitionOf(target);
        if (!definition || this.byType.has(definition.type)) continue;
        this.byType.set(
          definition.type,
          this.moduleRef.get(token, { strict: false }),
        );
      }
    }
  }

  /** The repository of a type name, when this app registered it. */
  repository(type: string): AggregateRepository<AggregateRoot> | undefined {
    return this.byType.get(type);
  }

  /** Type names, sorted. */
  types(): string[] {
    return [...this.byType.keys()].sort();
  }
}
