import { ChronicleConsoleModule } from '@chronicle/console';
import { ChronicleModule } from '@chronicle/core';
import { ChronicleGatewayModule } from '@chronicle/gateway';
import { Module } from '@nestjs/common';
import { InventoryModule, inventoryTypeOrm } from '@shop/inventory';
import { OrdersModule } from '@shop/orders';
import { PaymentsModule } from '@shop/payments';
import { ShopConsoleLogin } from './console-users.js';

// Metrics on a port of their own (no HTTP server here): METRICS_PORT, else the
// app's port in apps/microclients.env; off when neither is set.
const metricsPort = process.env.METRICS_PORT ?? process.env.SHOP_METRICS_PORT;

/**
 * The whole shop as one app: the three microclients' modules, unchanged, in
 * one process. Every command and query is then handled in process; events,
 * consumers and schedules work as they do split. With CONSOLE_PORT, main.ts
 * serves the web console at /chronicle (the shop knows every aggregate class,
 * so it can show any state) and the HTTP gateway at /api; with `CHRONICLE_ENABLED=chronicle-console` it
 * runs nothing but the console beside the three microclients.
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
    ChronicleConsoleModule.forRoot({
      path: '/chronicle',
      guard: ShopConsoleLogin,
      adminRole: 'admin',
      // How often the consumers page's lag chart is sampled (default 30 s).
      ...(process.env.CONSOLE_LAG_SAMPLE_MS && {
        lagSampleMs: Number(process.env.CONSOLE_LAG_SAMPLE_MS),
      }),
    }),
    // Commands, queries and the event feed over HTTP, for programs in any
    // language, as the logged-in user (the same demo login).
    ChronicleGatewayModule.forRoot({ path: 'api', guards: [ShopConsoleLogin] }),
  ],
  providers: [ShopConsoleLogin],
})
export class ShopModule {}
