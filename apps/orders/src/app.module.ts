import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { OrdersModule } from './orders/index.js';

/** The orders microclient: configured from DATABASE_URL and NATS_URL (embedded without them). */
@Module({
  imports: [ChronicleModule.forRoot({ app: 'orders' }), OrdersModule],
})
export class AppModule {}
