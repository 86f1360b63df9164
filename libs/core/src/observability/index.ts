export {
  ChronicleHealthIndicator,
  type HealthResult,
} from './chronicle-health.indicator.js';
export { HEALTH_OPTIONS, type HealthOptions } from './health.options.js';
export { MetricsEndpoint } from './metrics-endpoint.js';
