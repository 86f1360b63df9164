import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConsumerExplorer } from './consumer-explorer.js';
import { ConsumerMetrics } from './consumer-metrics.js';
import { DeadLetters } from './dead-letters.service.js';
import { ProjectionTables } from './projection-tables.service.js';
import { TrackingService } from './tracking.service.js';

/** Consumers of the event log; imported (and re-exported) by ChronicleModule. */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ConsumerExplorer,
    TrackingService,
    ConsumerMetrics,
    DeadLetters,
    ProjectionTables,
  ],
  exports: [TrackingService, DeadLetters, ProjectionTables],
})
export class TrackingModule {}
