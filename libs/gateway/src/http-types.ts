import type { IncomingMessage, ServerResponse } from 'node:http';

// What the gateway reads of Express's request and response: Node's own
// types plus the few fields Express and its body parser add (no dependency
// on @types/express).

export interface GatewayRequest extends IncomingMessage {
  /** The parsed body (the app's JSON body parser). */
  readonly body?: unknown;
  /** Who an auth guard or strategy says sent the request. */
  readonly user?: unknown;
  readonly originalUrl?: string;
  /** The client's address, as Express's `trust proxy` setting reads it. */
  readonly ip?: string;
}

export type GatewayResponse = ServerResponse;

/** The request's path, without the query string. */
export function pathOf(request: GatewayRequest): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}
