import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProcessRunner } from './process-runner.js';

/** Process managers; imported by ChronicleModule. */
@Module({
  imports: [DiscoveryModule],
  providers: [ProcessRunner],
})
export class ProcessesModule {}
