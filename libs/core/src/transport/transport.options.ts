import type { NatsTransportOptions } from './nats/nats-transport.options.js';

/** How commands and queries travel between apps. */
export interface TransportOptions {
  /** Use NATS: its options, or just its server URL(s). Default: when `NATS_URL` is set. */
  readonly nats?: NatsTransportOptions | string;
  /** Stay in process even when `NATS_URL` is set (a demo, a unit test). */
  readonly local?: boolean;
  /**
   * Separates deployments sharing one NATS: the second token of every subject.
   * Default: `CHRONICLE_NAMESPACE`, else `default`.
   */
  readonly namespace?: string;
  /** How long a caller waits for a remote handler, in ms. Default 10,000. */
  readonly timeoutMs?: number;
  /**
   * `local` (default): a handler in this process runs here; others are asked over
   * the transport. `remote`: always over the transport, even to this process.
   */
  readonly routing?: 'local' | 'remote';
  /** Send handlers' stack traces back to callers. Default false. */
  readonly debug?: boolean;
}

/** The transport settings the router works with, defaults applied. */
export interface ResolvedTransportOptions {
  readonly app: string;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly routing: 'local' | 'remote';
  readonly debug: boolean;
  /** Names of the handler modules this process enables; undefined: all. */
  readonly enabled?: readonly string[];
}

export const TRANSPORT_OPTIONS = Symbol('chronicle:transport-options');
