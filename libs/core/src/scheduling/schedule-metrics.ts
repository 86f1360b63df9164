import {
  Inject,
  Injectable,
  Logger,
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
    const logger = new Logger('Scheduler');
    this.remove = metrics.addScrapeSource(async () => {
      try {
        const { due, dead } = await this.store.counts();
        return { schedulesDue: due, schedulesDead: dead };
      } catch (error) {
        // The database away must not fail the whole scrape: left out of it.
        logger.warn(`Cannot read the schedules' gauges: ${String(error)}`);
        return {};
      }
    });
  }

  onModuleDestroy(): void {
    this.remove?.();
    this.remove = undefined;
  }
}
