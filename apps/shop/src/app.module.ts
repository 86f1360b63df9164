import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { InventoryModule, inventoryTypeOrm } from '@shop/inventory';
import { OrdersModule } from '@shop/orders';
import { PaymentsModule } from '@shop/payments';

// Metrics on a port of their own (no HTTP server here): METRICS_PORT, else the
// app's port in apps/microclients.env; off when neither is set.
const metricsPort = process.env.METRICS_PORT ?? process.env.SHOP_METRICS_PORT;

/**
 * The whole shop as one app: the three microclients' modules, unchanged, in
 * one process. Every command and query is then handled in process; events,
 * consumers and schedules work as they do split.
 */
@Module({
  imports: [
    ChronicleModule.forRoot({
      app: 'shop',
      metrics: metricsPort ? { port: Number(metricsPort) } : false,
    }),
    inventoryTypeOrm(),
    OrdersModule,
    PaymentsModule,
    InventoryModule,
  ],
})
export class ShopModule {}
