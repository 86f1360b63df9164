import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ChronicleInternalModule } from '../handling/index.js';
import { ErrorHandlers } from './error-handlers.js';

/** Subscribes the app's `@HandleError` methods; imported by ChronicleModule. */
@ChronicleInternalModule()
@Module({
  imports: [DiscoveryModule],
  providers: [ErrorHandlers],
  exports: [ErrorHandlers],
})
export class ErrorMessagesModule {}
