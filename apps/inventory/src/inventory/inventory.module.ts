import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Reservations } from './reservations.consumer.js';
import { StockItem } from './stock-item.aggregate.js';
import { StockLevel } from './stock-level.entity.js';
import {
  GetStockLevelsHandler,
  StockLevels,
} from './stock-levels.projection.js';
import {
  AddStockHandler,
  ReleaseStockHandler,
  ReserveStockHandler,
} from './stock.handlers.js';

/**
 * Inventory: holds stock for placed orders and keeps a stock-levels read
 * model. The app that imports it provides TypeORM's connection
 * (`inventoryTypeOrm()`).
 */
@Module({
  imports: [
    ChronicleModule.forFeature([StockItem]),
    TypeOrmModule.forFeature([StockLevel]),
  ],
  providers: [
    AddStockHandler,
    ReserveStockHandler,
    ReleaseStockHandler,
    Reservations,
    StockLevels,
    GetStockLevelsHandler,
  ],
})
export class InventoryModule {}
