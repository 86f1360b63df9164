import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { InventoryModule, inventoryTypeOrm } from '@shop/inventory';
import { OrdersModule } from '@shop/orders';
import { PaymentsModule } from '@shop/payments';

/**
 * The whole shop as one app: the three microclients' modules, unchanged, in
 * one process. Every command and query is then handled in process; events,
 * consumers and schedules work as they do split.
 */
@Module({
  imports: [
    ChronicleModule.forRoot({ app: 'shop' }),
    inventoryTypeOrm(),
    OrdersModule,
    PaymentsModule,
    InventoryModule,
  ],
})
export class ShopModule {}
