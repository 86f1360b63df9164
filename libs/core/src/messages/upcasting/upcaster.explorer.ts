import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { upcasterBindingsOf } from './upcaster.decorator.js';
import { EventUpcaster } from './event-upcaster.js';

/**
 * Finds the `@Upcaster` methods of every provider once, at bootstrap, and
 * registers them with the app's `EventUpcaster`. Discovery (rather than a
 * process-wide registry filled by the decorator) keeps upcasters Nest
 * providers: scoped to the app that lists them, and able to inject config.
 */
@Injectable()
export class UpcasterExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly upcaster: EventUpcaster,
  ) {}

  onModuleInit(): void {
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance))
        continue;
      seen.add(instance);
      if (upcasterBindingsOf(instance).length > 0)
        this.upcaster.register(instance);
    }
  }
}
