import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MessageRouter } from './message-router.js';
import {
  RequestScopedDispatch,
  ScopedHandlers,
} from './request-scoped-dispatch.js';

/**
 * Deliberately not global: see MessageRouter for why its bootstrap hook must
 * run after @nestjs/cqrs's.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [MessageRouter, ScopedHandlers, RequestScopedDispatch],
  // The scheduler delivers sendAndForget's commands where they are handled.
  exports: [MessageRouter],
})
export class HandlingModule {}
