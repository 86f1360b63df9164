import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { PaymentsModule } from './payments/index.js';

/** The payments microclient: configured from DATABASE_URL and NATS_URL (embedded without them). */
@Module({
  imports: [ChronicleModule.forRoot({ app: 'payments' }), PaymentsModule],
})
export class AppModule {}
