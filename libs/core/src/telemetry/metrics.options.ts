import type { Registry } from 'prom-client';

/**
 * Prometheus metrics (`ChronicleModule.forRoot({ metrics: true })` or these
 * options). See docs/guides/observability.md for every metric.
 */
export interface MetricsOptions {
  /**
   * The prom-client registry to register on. Default: prom-client's global
   * `register`, the one the app (or @willsoto/nestjs-prometheus) already
   * serves, so there is never a second registry to scrape.
   */
  readonly registry?: Registry;
  /**
   * Serve the registry at this path on the app's own HTTP server, when it has
   * one (`NestFactory.create`). Default `/metrics`; `false` when the app
   * serves its registry itself.
   */
  readonly path?: string | false;
  /**
   * Also serve `GET /metrics` on a listener of its own on this port: for a
   * microclient without HTTP (`createApplicationContext`). Default: none.
   */
  readonly port?: number;
  /** The address that listener binds. Default `0.0.0.0`, so Prometheus can reach it. */
  readonly host?: string;
  /**
   * Also collect prom-client's default process metrics (CPU, memory, event
   * loop, GC) on the registry. Default false: an app that collects them
   * already would register them twice.
   */
  readonly defaultMetrics?: boolean;
}

/** Metrics as given to `forRoot`: `true` for every default. */
export type MetricsOption = boolean | MetricsOptions;

/** The options in force, or undefined when metrics are off. */
export function resolveMetricsOptions(
  option: MetricsOption | undefined,
): MetricsOptions | undefined {
  if (option === undefined || option === false) return undefined;
  return option === true ? {} : option;
}
