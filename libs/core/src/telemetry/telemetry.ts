import { collectDefaultMetrics } from 'prom-client';
import { ChronicleMetrics } from './chronicle-metrics.js';
import {
  resolveMetricsOptions,
  type MetricsOption,
  type MetricsOptions,
} from './metrics.options.js';

/**
 * What every part of Chronicle reports through: the Prometheus instruments
 * when metrics are on (`metrics` undefined when off, so a call site pays one
 * check), and the options they were made with. Spans go through `tracing.ts`
 * and need nothing from here: without an OpenTelemetry SDK they cost nothing.
 */
export class Telemetry {
  /** Metrics off: what parts made without Chronicle's module (tests, tools) get. */
  static readonly off = new Telemetry(undefined);

  private constructor(
    readonly metrics: ChronicleMetrics | undefined,
    readonly metricsOptions?: MetricsOptions,
  ) {}

  static from(option: MetricsOption | undefined): Telemetry {
    const options = resolveMetricsOptions(option);
    if (!options) return Telemetry.off;
    const metrics = ChronicleMetrics.forRegistry(options.registry);
    if (
      options.defaultMetrics &&
      !metrics.registry.getSingleMetric('process_cpu_seconds_total')
    ) {
      collectDefaultMetrics({ register: metrics.registry });
    }
    return new Telemetry(metrics, options);
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
