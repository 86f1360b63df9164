import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redactUrl } from '@chronicle/core';
import { ShopModule } from './app.module.js';

// The monolith: the same modules as the three microclients, in one process.
const app = await NestFactory.createApplicationContext(ShopModule);
app.enableShutdownHooks();
new Logger('shop').log(
  `ready: store on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, ` +
    `messages ${process.env.NATS_URL ? `over NATS at ${redactUrl(process.env.NATS_URL)}` : 'in process'}`,
);
