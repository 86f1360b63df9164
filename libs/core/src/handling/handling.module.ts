import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HandlerRegistrar } from './handler-registrar.js';

/**
 * Deliberately not global: see HandlerRegistrar for why its bootstrap hook
 * must run after @nestjs/cqrs's.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [HandlerRegistrar],
})
export class HandlingModule {}
