import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { InventoryModule, inventoryTypeOrm } from './inventory/index.js';

/** The inventory microclient: configured from DATABASE_URL and NATS_URL (embedded without them). */
@Module({
  imports: [
    ChronicleModule.forRoot({ app: 'inventory' }),
    inventoryTypeOrm(),
    InventoryModule,
  ],
})
export class AppModule {}
