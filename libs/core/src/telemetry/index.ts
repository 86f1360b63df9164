export {
  ChronicleMetrics,
  type HandledKind,
  type Outcome,
  type ScrapeSnapshot,
  type ScrapeSource,
} from './chronicle-metrics.js';
export {
  resolveMetricsOptions,
  type MetricsOption,
  type MetricsOptions,
} from './metrics.options.js';
export { secondsSince, Telemetry } from './telemetry.js';
export {
  activeTraceMetadata,
  ATTR,
  failSpan,
  inSpan,
  OFF_THE_WIRE,
  traceContextOf,
  traceLinkOf,
  tracer,
  tracingOn,
  TRACE_KEYS,
  type TraceMetadata,
} from './tracing.js';
