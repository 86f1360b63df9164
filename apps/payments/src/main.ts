import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redactUrl } from '@chronicle/core';
import { AppModule } from './app.module.js';

// A microclient serves no HTTP of its own: an application context is enough.
const app = await NestFactory.createApplicationContext(AppModule);
app.enableShutdownHooks();
new Logger('payments').log(
  `ready: store on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, ` +
    `messages ${process.env.NATS_URL ? `over NATS at ${redactUrl(process.env.NATS_URL)}` : 'in process'}`,
);
