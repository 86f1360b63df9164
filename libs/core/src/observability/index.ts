export {
  ChronicleHealthIndicator,
  type HealthResult,
} from './chronicle-health.indicator.js';
