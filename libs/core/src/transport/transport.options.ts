import type { NatsTransportOptions } from './nats/nats-transport.options.js';
import type { SigningOptions } from './signing/signing.options.js';
import { DEFAULT_SERVE_LIMITS } from './serve-queue.js';
import { TransportError } from './transport.errors.js';
import type { ServeLimits } from './transport.js';

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
  /**
   * Send the stack traces of this app's failed handlers back to its callers
   * (for development). Only this option decides: callers cannot ask. Default false.
   */
  readonly debug?: boolean;
  /**
   * Requests of one message type this process runs at once when they come
   * over the transport; the rest wait. Default 32.
   */
  readonly maxConcurrentHandlers?: number;
  /**
   * Requests of one message type that wait in this process for a free
   * handler. Beyond that, a request is refused at once, not started, and its
   * caller sends it again, so NATS can pick another instance. Default 256.
   */
  readonly maxQueuedRequests?: number;
  /**
   * The in-process transport's largest request or reply (headers and body, in
   * bytes), to see locally what a NATS server would refuse (its default
   * `max_payload` is 1 MiB). Default: no limit. Over NATS the server's
   * `max_payload` is the limit, whatever this says.
   */
  readonly maxPayloadBytes?: number;
  /**
   * Signed messages: this app signs what it sends and refuses what is not
   * signed by a trusted key (off unless a key is given here or in
   * `CHRONICLE_SIGNING_KEY`). See docs/guides/security.md.
   */
  readonly signing?: SigningOptions;
}

/** The transport settings the router works with, defaults applied. */
export interface ResolvedTransportOptions {
  readonly app: string;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly routing: 'local' | 'remote';
  readonly debug: boolean;
  /** Per served message type: handlers at once, requests waiting. */
  readonly serveLimits: ServeLimits;
  /** Names of the handler modules this process enables; undefined: all. */
  readonly enabled?: readonly string[];
  /** Where `enabled` came from, for messages. */
  readonly enabledFrom?: 'enabled' | 'CHRONICLE_ENABLED';
}

export const TRANSPORT_OPTIONS = Symbol('chronicle:transport-options');

/** The backpressure limits, checked: a limit that would stall serving is refused. */
export function serveLimitsOf(options: TransportOptions): ServeLimits {
  const maxConcurrent =
    options.maxConcurrentHandlers ?? DEFAULT_SERVE_LIMITS.maxConcurrent;
  const maxQueued = options.maxQueuedRequests ?? DEFAULT_SERVE_LIMITS.maxQueued;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new TransportError(
      `transport.maxConcurrentHandlers must be a whole number of at least 1, got ${String(maxConcurrent)}: ` +
        'it is how many requests of one message type this process runs at once.',
    );
  }
  if (!Number.isInteger(maxQueued) || maxQueued < 0) {
    throw new TransportError(
      `transport.maxQueuedRequests must be a whole number of at least 0, got ${String(maxQueued)}: ` +
        'it is how many requests of one message type wait for a free handler (0: none wait).',
    );
  }
  return { maxConcurrent, maxQueued };
}
