import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventUpcaster } from './event-upcaster.js';
import { UpcasterExplorer } from './upcaster.explorer.js';

/** Provides the app's `EventUpcaster`, filled from `@Upcaster` methods at bootstrap. */
@Module({
  imports: [DiscoveryModule],
  providers: [EventUpcaster, UpcasterExplorer],
  exports: [EventUpcaster],
})
export class UpcastingModule {}
