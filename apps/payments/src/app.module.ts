import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { PaymentsModule } from './payments/index.js';

// Metrics on a port of their own (no HTTP server here): METRICS_PORT, else the
// app's port in apps/microclients.env; off when neither is set.
const metricsPort =
  process.env.METRICS_PORT ?? process.env.PAYMENTS_METRICS_PORT;

/** The payments microclient: configured from DATABASE_URL and NATS_URL (embedded without them). */
@Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'payments',
      metrics: metricsPort ? { port: Number(metricsPort) } : false,
    }),
    PaymentsModule,
  ],
})
export class AppModule {}
