import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HandlingModule } from '../handling/index.js';
import { SchedulingRunner } from './scheduling-runner.js';

/**
 * Runs the scheduler. It imports HandlingModule so that Nest, which runs the
 * bootstrap hooks of deeper modules first, has put the command pipeline in
 * front of every handler before the first scheduled command is delivered.
 */
@Module({
  imports: [DiscoveryModule, HandlingModule],
  providers: [SchedulingRunner],
})
export class SchedulingModule {}
