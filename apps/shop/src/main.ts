import 'reflect-metadata';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redactUrl } from '@chronicle/core';
import { ShopModule } from './app.module.js';

// The monolith: the same modules as the three microclients, in one process.
// With CONSOLE_PORT it also serves HTTP: the web console at /chronicle, the
// HTTP gateway at /api.
const logger = new Logger('shop');
const consolePort = process.env.CONSOLE_PORT;
let app: INestApplicationContext;
if (consolePort) {
  const http = await NestFactory.create(ShopModule);
  await http.listen(Number(consolePort), '127.0.0.1');
  logger.log(
    `console at http://127.0.0.1:${consolePort}/chronicle, gateway at http://127.0.0.1:${consolePort}/api (OpenAPI: /api/docs)`,
  );
  app = http;
} else {
  app = await NestFactory.createApplicationContext(ShopModule);
}
app.enableShutdownHooks();
logger.log(
  `ready: store on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, ` +
    `messages ${process.env.NATS_URL ? `over NATS at ${redactUrl(process.env.NATS_URL)}` : 'in process'}`,
);
