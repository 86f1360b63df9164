/**
 * How to reach NATS. Every field is optional: `NATS_URL`, the `NATS_*`
 * credential variables and NATS's defaults fill in. Give at most one way to
 * authenticate; when none is given here, the URLs' user info is used
 * (`nats://TOKEN@host`, `nats://user:pass@host`), else `NATS_TOKEN`,
 * `NATS_USER`/`NATS_PASSWORD`, `NATS_NKEY_SEED` or `NATS_CREDS`.
 */
export interface NatsTransportOptions {
  /** One URL, a comma-separated list, or an array. Default: `NATS_URL`, else `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[];
  /** Token authentication. Default: the URL's user info, else `NATS_TOKEN`. */
  readonly token?: string;
  /** User and password authentication. Default: the URL's, else `NATS_USER` and `NATS_PASSWORD`. */
  readonly user?: string;
  readonly pass?: string;
  /** NKey authentication: the user's seed (`SU...`). Default: `NATS_NKEY_SEED`. */
  readonly nkeySeed?: string;
  /** A `.creds` file (a user JWT and its seed), read at each connect. Default: `NATS_CREDS`. */
  readonly credsFile?: string;
  /**
   * TLS: `true` for the system's CAs, or node `tls` options (ca, cert, key...).
   * Default: from `NATS_TLS_CA`, `NATS_TLS_CERT` and `NATS_TLS_KEY` (files), when set.
   */
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
