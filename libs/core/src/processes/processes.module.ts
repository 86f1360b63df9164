import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProcessHistoryCleanup } from './process-history-cleanup.js';
import { ProcessRunner } from './process-runner.js';

/** Process managers; imported by ChronicleModule. */
@Module({
  imports: [DiscoveryModule],
  providers: [ProcessRunner, ProcessHistoryCleanup],
})
export class ProcessesModule {}
