#!/usr/bin/env node
// Sends the example shop's microclients a steady stream of customers, so the
// dashboard (docs/guides/observability.md) has something to show: stock
// arrives, orders are placed and most are paid; some payments are declined
// (over 500), some orders run short of stock, some are never paid (they expire
// after the orders app's PAYMENT_TIMEOUT), and a few payments name an order
// that does not exist (rejected). After `npm run build`, with the apps running:
//
//   node --env-file=apps/microclients.env scripts/shop-traffic.mjs [--rate 4] [--seconds 600]
//
// --rate: orders started per second; --seconds: stop after that long (default:
// until Ctrl+C). It is a Chronicle app itself (no handlers), so it sends over
// the NATS and PostgreSQL in DATABASE_URL and NATS_URL. Preloaded with
// `--import ./apps/tracing.mjs` (and OTEL_SERVICE_NAME=shop-traffic), each
// customer is one trace: a `customer` span, as an HTTP request's would be,
// holds their PlaceOrder, AuthorizePayment and GetOrder and all they set off.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ChronicleModule } from '@chronicle/core';
import {
  AddStock,
  AuthorizePayment,
  GetOrder,
  GetStockLevels,
  OrderLine,
  PlaceOrder,
} from '@shop/contracts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '4' },
    seconds: { type: 'string' },
  },
});
const rate = Number(values.rate);
const seconds =
  values.seconds === undefined ? Infinity : Number(values.seconds);
if (!(rate > 0) || !(seconds > 0)) {
  console.error('--rate and --seconds take positive numbers');
  process.exit(1);
}
if (!process.env.DATABASE_URL || !process.env.NATS_URL) {
  console.error(
    'DATABASE_URL and NATS_URL are not set: run with --env-file=apps/microclients.env',
  );
  process.exit(1);
}

class TrafficModule {}
Module({ imports: [ChronicleModule.forRoot({ app: 'shop-traffic' })] })(
  TrafficModule,
);
const app = await NestFactory.createApplicationContext(TrafficModule, {
  logger: ['error', 'warn'],
});
const commands = app.get(CommandBus);
const queries = app.get(QueryBus);

const run = Date.now().toString(36);
const skus = ['tea', 'coffee', 'cocoa'];
const counts = {};
const count = (what) => (counts[what] = (counts[what] ?? 0) + 1);
let inFlight = 0;
let stopping = false;

const tracer = trace.getTracer('shop-traffic');

async function customer(n, span) {
  const orderId = `traffic-${run}-${n}`;
  span.setAttribute('shop.order_id', orderId);
  const sku = skus[n % skus.length];
  const dice = Math.random();
  try {
    if (n % 25 === 0)
      await Promise.all(
        skus.map((s) => commands.execute(new AddStock(s, 500))),
      );
    if (dice < 0.05) {
      // A payment for an order that was never placed.
      await commands.execute(new AuthorizePayment(`${orderId}-missing`));
      return count('payment without order');
    }
    const quantity = dice < 0.15 ? 10_000 : 1 + (n % 3); // too many: a shortage
    const unitPrice = dice < 0.25 ? 600 : 4.5; // over 500: declined
    await commands.execute(
      new PlaceOrder(orderId, `customer-${n % 50}`, [
        OrderLine.of(sku, quantity, unitPrice),
      ]),
    );
    if (dice > 0.9) return count('left unpaid');
    await commands.execute(new AuthorizePayment(orderId));
    await queries.execute(new GetOrder(orderId));
    if (n % 10 === 0) await queries.execute(new GetStockLevels());
    count('placed and paid');
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error?.code });
    count([error?.constructor?.name, error?.code].filter(Boolean).join(' '));
  }
}

const started = Date.now();
let n = 0;
const timer = setInterval(() => {
  if (stopping) return;
  if (Date.now() - started > seconds * 1000) return void stop();
  // Do not pile up when the apps fall behind (or are down).
  if (inFlight >= rate * 10) return count('skipped, too many in flight');
  inFlight++;
  const next = ++n;
  void tracer
    .startActiveSpan('customer', (span) =>
      customer(next, span).finally(() => span.end()),
    )
    .finally(() => inFlight--);
}, 1000 / rate);
const report = setInterval(() => console.log(JSON.stringify(counts)), 10_000);

async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  clearInterval(report);
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 100));
  console.log(JSON.stringify(counts));
  await app.close();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
