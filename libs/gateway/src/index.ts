export { ChronicleGatewayModule } from './gateway.module.js';
export {
  GATEWAY_OPTIONS,
  type GatewayOptions,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
export type { DispatchResult } from './message-dispatch.js';
export { openApiDocument } from './openapi-document.js';
export {
  GatewayError,
  problemOf,
  type ProblemDetails,
} from './problem-details.js';
