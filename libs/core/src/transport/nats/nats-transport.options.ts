/** How to reach NATS. Every field is optional: `NATS_URL` and NATS's defaults fill in. */
export interface NatsTransportOptions {
  /** One URL, a comma-separated list, or an array. Default: `NATS_URL`, else `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[];
  /** Token authentication. */
  readonly token?: string;
  /** User and password authentication. */
  readonly user?: string;
  readonly pass?: string;
  /** NKey authentication: the user's seed (`SU...`). */
  readonly nkeySeed?: string;
  /** TLS: `true` for the system's CAs, or node `tls` options (ca, cert, key...). */
  readonly tls?:
    | boolean
    | {
        readonly ca?: string;
        readonly cert?: string;
        readonly key?: string;
        readonly caFile?: string;
        readonly certFile?: string;
        readonly keyFile?: string;
      };
  /** The connection's name as NATS monitoring shows it. Default: the app's name. */
  readonly name?: string;
  /** Pause between reconnect attempts, in ms. Default 250. Reconnects never give up. */
  readonly reconnectTimeWaitMs?: number;
}
