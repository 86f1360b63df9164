import type { CanActivate, Type } from '@nestjs/common';

/** How `ChronicleGatewayModule.forRoot` mounts the gateway. */
export interface GatewayOptions {
  /** The path the gateway's routes are under: `'api'` gives `POST /api/commands/{type}`. Default: the root. */
  readonly path?: string;
  /**
   * Guards the gateway's routes run, after the app's global ones (an auth
   * guard that sets `request.user`, say). The user they leave on
   * `request.user` is who the messages run as.
   */
  readonly guards?: readonly Type<CanActivate>[];
  /** How long a command or query may take before 504, in ms. Default: the transport's timeout. */
  readonly timeoutMs?: number;
  /**
   * Requests per client (by IP) in a window: `{ limit: 100, ttlMs: 1000 }`
   * by default; `false` turns it off (a proxy in front limits instead).
   */
  readonly rateLimit?:
    { readonly limit: number; readonly ttlMs: number } | false;
  /**
   * The largest request body, in bytes (by its Content-Length). Default
   * 1 MiB. The app's JSON body parser has its own limit (Nest's default is
   * 100 kB): the smaller one wins.
   */
  readonly maxBodyBytes?: number;
  /** The OpenAPI document's title and version. Default: "Chronicle gateway", "1.0.0". */
  readonly openApi?: { readonly title?: string; readonly version?: string };
  /** Serve the Swagger UI page at `docs`. Default true. */
  readonly docs?: boolean;
  /** How often the event feed looks at the log without a wake-up, in ms. Default 1000. */
  readonly feedPollMs?: number;
}

export interface ResolvedGatewayOptions {
  /** '' or '/api': with a leading slash, without a trailing one. */
  readonly basePath: string;
  readonly guards: readonly Type<CanActivate>[];
  readonly timeoutMs?: number;
  readonly rateLimit:
    { readonly limit: number; readonly ttlMs: number } | false;
  readonly maxBodyBytes: number;
  readonly title: string;
  readonly version: string;
  readonly docs: boolean;
  readonly feedPollMs: number;
}

export const GATEWAY_OPTIONS = Symbol('chronicle:gateway-options');

export function resolveGatewayOptions(
  options: GatewayOptions = {},
): ResolvedGatewayOptions {
  const path = (options.path ?? '').replace(/^\/+|\/+$/g, '');
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError(
      `ChronicleGatewayModule: maxBodyBytes must be a whole number of bytes above 0, got ${String(options.maxBodyBytes)}.`,
    );
  }
  const rateLimit =
    options.rateLimit === undefined
      ? { limit: 100, ttlMs: 1000 }
      : options.rateLimit;
  if (
    rateLimit !== false &&
    !(
      Number.isInteger(rateLimit.limit) &&
      rateLimit.limit > 0 &&
      Number.isInteger(rateLimit.ttlMs) &&
      rateLimit.ttlMs > 0
    )
  ) {
    throw new TypeError(
      'ChronicleGatewayModule: rateLimit must be { limit, ttlMs } with whole numbers above 0, or false.',
    );
  }
  return {
    basePath: path === '' ? '' : `/${path}`,
    guards: options.guards ?? [],
    timeoutMs: options.timeoutMs,
    rateLimit,
    maxBodyBytes,
    title: options.openApi?.title ?? 'Chronicle gateway',
    version: options.openApi?.version ?? '1.0.0',
    docs: options.docs ?? true,
    feedPollMs: options.feedPollMs ?? 1000,
  };
}
