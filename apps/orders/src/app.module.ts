import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { OrdersModule } from './orders/index.js';

/**
 * The orders microclient. With no DATABASE_URL it runs embedded (PGlite in
 * memory); with one, on PostgreSQL. Nothing else changes.
 */
@Module({
  imports: [ChronicleModule.forRoot({ app: 'orders' }), OrdersModule],
})
export class AppModule {}
