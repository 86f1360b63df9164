export {
  ChronicleHealthIndicator,
  type HealthResult,
} from './chronicle-health.indicator.js';
export { MetricsEndpoint } from './metrics-endpoint.js';
