// The handler side of the NATS fault tests, in a process of its own: plain
// JavaScript on the built @chronicle/core, decorators applied by hand.
// Each RecordEntry command appends one EntryRecorded event to the stream of
// its entry. The append expects 'any' version on purpose: a command that ran
// twice then leaves two events, instead of the store's version check hiding
// the second run behind a ConcurrencyError.
import 'reflect-metadata';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ChronicleModule,
  CommandHandler,
  CommandType,
  EventType,
  UnitOfWork,
} from '@chronicle/core';

const env = process.env;

// Fields set in the constructor are declared: undeclared ones are stripped.
class RecordEntry {
  constructor(entry) {
    this.entry = entry;
  }
}
CommandType('faults.RecordEntry')(RecordEntry);

class EntryRecorded {
  constructor(entry, handledBy) {
    this.entry = entry;
    this.handledBy = handledBy;
  }
}
EventType('faults.EntryRecorded')(EntryRecorded);

class RecordEntryHandler {
  constructor(unitOfWork) {
    this.unitOfWork = unitOfWork;
  }

  async execute({ entry }) {
    await this.unitOfWork.append(
      `entry-${entry}`,
      [new EntryRecorded(entry, env.NATS_NAME)],
      'any',
    );
    return { entry };
  }
}
CommandHandler(RecordEntry)(RecordEntryHandler);
Injectable()(RecordEntryHandler);
Inject(UnitOfWork)(RecordEntryHandler, undefined, 0);

class EntriesModule {}
Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'entries',
      database: { url: env.DATABASE_URL, schema: env.SCHEMA, poolSize: 4 },
      transport: {
        namespace: env.NAMESPACE,
        nats: {
          servers: env.NATS_SERVERS,
          token: env.NATS_TOKEN || undefined,
          name: env.NATS_NAME,
          reconnectTimeWaitMs: 100,
        },
      },
    }),
  ],
  providers: [RecordEntryHandler],
})(EntriesModule);

const app = await NestFactory.createApplicationContext(EntriesModule, {
  logger: ['error', 'warn'],
});
app.enableShutdownHooks();
process.stdout.write('ready\n');
