import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { ConsumerOverview } from '@chronicle/core';
import {
  CONSOLE_OPTIONS,
  type ResolvedConsoleOptions,
} from '../console.options.js';
import { ConsoleStore } from './console-store.js';

/** How far back the consumers page's chart looks. */
export const LAG_WINDOW_MS = 3_600_000;

/** One consumer's lag at one moment. */
export interface LagPoint {
  readonly at: number;
  /** Events behind, summed over its segments. */
  readonly events: number;
  /**
   * Age of the oldest unread event, in seconds: the most of its segments'
   * (ages do not add up: two segments a minute behind are a minute behind).
   */
  readonly seconds: number;
}

/** Each consumer's lag over a sample, reduced from the consumers page's own read. */
export function lagOf(
  consumers: readonly ConsumerOverview[],
  at: number,
): Map<string, LagPoint> {
  const points = new Map<string, LagPoint>();
  for (const consumer of consumers) {
    let events = 0;
    let seconds = 0;
    for (const segment of consumer.segments) {
      events += segment.lagEvents;
      seconds = Math.max(seconds, segment.lagSeconds);
    }
    points.set(consumer.consumer, { at, events, seconds });
  }
  return points;
}

/**
 * The last hour of every consumer's lag, sampled by this console process
 * every `lagSampleMs` into a bounded ring, in memory: it starts when the
 * process starts and is lost with it (Prometheus keeps the long history).
 */
@Injectable()
export class LagHistory implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ChronicleConsole');
  private readonly samples: Map<string, LagPoint>[] = [];
  private readonly capacity: number;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;
  /** When the first sample was taken; undefined before. */
  since?: number;

  constructor(
    private readonly store: ConsoleStore,
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
  ) {
    this.capacity = Math.ceil(LAG_WINDOW_MS / options.lagSampleMs) + 1;
  }

  onApplicationBootstrap(): void {
    // One sample at a time: a slow read skips a beat rather than piling up.
    const tick = () => {
      this.sampling ??= this.sample().finally(() => {
        this.sampling = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.options.lagSampleMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
  }

  /** Adds a sample from a read of the consumers (the page's own read, also used by tests). */
  record(consumers: readonly ConsumerOverview[], at = Date.now()): void {
    this.since ??= at;
    this.samples.push(lagOf(consumers, at));
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  /** Each consumer's points within the last hour, oldest first. */
  series(now = Date.now()): Map<string, LagPoint[]> {
    const series = new Map<string, LagPoint[]>();
    for (const sample of this.samples) {
      for (const [consumer, point] of sample) {
        if (point.at < now - LAG_WINDOW_MS) continue;
        let points = series.get(consumer);
        if (!points) series.set(consumer, (points = []));
        points.push(point);
      }
    }
    return series;
  }

  private async sample(): Promise<void> {
    try {
      const { consumers } = await this.store.consumers();
      this.record(consumers);
    } catch (error) {
      // The database is away: a gap in the chart, said in the log.
      this.logger.warn(
        `Could not sample consumer lag: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
