import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ChronicleInternalModule, HandlingModule } from '../handling/index.js';
import { HandledCommandsCleanup } from './handled-commands-cleanup.js';
import { ScheduleMetrics } from './schedule-metrics.js';
import { SchedulingRunner } from './scheduling-runner.js';

/**
 * Runs the scheduler. It imports HandlingModule so that Nest, which runs the
 * bootstrap hooks of deeper modules first, has put the command pipeline in
 * front of every handler before the first scheduled command is delivered.
 */
@ChronicleInternalModule()
@Module({
  imports: [DiscoveryModule, HandlingModule],
  providers: [SchedulingRunner, HandledCommandsCleanup, ScheduleMetrics],
})
export class SchedulingModule {}
