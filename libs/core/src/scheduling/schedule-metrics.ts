import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Telemetry } from '../telemetry/index.js';
import { ScheduleStore } from './schedule-store.js';

/**
 * Adds the schedules' gauges (due now, dead) to the scrape when metrics are
 * on, one statement per scrape, and takes them away when the module is
 * destroyed.
 */
@Injectable()
export class ScheduleMetrics implements OnModuleInit, OnModuleDestroy {
  private remove?: () => void;

  constructor(
    @Inject(ScheduleStore) private readonly store: ScheduleStore,
    @Optional() private readonly telemetry?: Telemetry,
  ) {}

  onModuleInit(): void {
    const metrics = this.telemetry?.metrics;
    if (!metrics) return;
    this.remove = metrics.addScrapeSource(async () => {
      const { due, dead } = await this.store.counts();
      return { schedulesDue: due, schedulesDead: dead };
    });
  }

  onModuleDestroy(): void {
    this.remove?.();
    this.remove = undefined;
  }
}
