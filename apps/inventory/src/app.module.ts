import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { InventoryModule, inventoryTypeOrm } from './inventory/index.js';

// Metrics on a port of their own (no HTTP server here): METRICS_PORT, else the
// app's port in apps/microclients.env; off when neither is set.
const metricsPort =
  process.env.METRICS_PORT ?? process.env.INVENTORY_METRICS_PORT;

/** The inventory microclient: configured from DATABASE_URL and NATS_URL (embedded without them). */
@Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'inventory',
      metrics: metricsPort ? { port: Number(metricsPort) } : false,
    }),
    inventoryTypeOrm(),
    InventoryModule,
  ],
})
export class AppModule {}
