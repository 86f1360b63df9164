import type { Logger } from '@nestjs/common';
import {
  PermissionViolationError,
  type NatsConnection,
  type Status,
} from '@nats-io/transport-node';
import { redactUrl } from '../../redaction/index.js';

/**
 * Follows the connection's status: whether it is up (so requests can fail fast
 * while it is down), the last error, and a warning per change. While the client
 * retries every few ms, the same error is logged once, not on every attempt.
 */
/** A publish or subscription NATS refused for lack of permission. */
export interface Refusal {
  readonly operation: 'publish' | 'subscribe';
  readonly subject: string;
}

export class ConnectionMonitor {
  connected = true;
  reconnects = 0;
  /** The last error the server or the connection reported while down. */
  lastError?: string;
  disconnectedSince?: Date;
  private closing = false;
  private lastRefusal?: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly onDisconnect: () => void,
    private readonly onRefused: (refusal: Refusal) => void = () => undefined,
  ) {}

  async watch(): Promise<void> {
    for await (const status of this.nc.status()) this.update(status);
  }

  /** Our own close is not news. */
  closingOnPurpose(): void {
    this.closing = true;
  }

  private update(status: Status): void {
    switch (status.type) {
      case 'disconnect':
        return this.disconnected(status.server);
      case 'reconnect':
        return this.reconnected(status.server);
      case 'error':
        return this.failed(status.error);
      case 'ldm':
        this.logger.warn(
          `The NATS server ${redactUrl(status.server)} is going away (lame duck mode); the client moves to another.`,
        );
        return;
      case 'close':
        this.connected = false;
        if (!this.closing)
          this.logger.warn(
            'The NATS connection closed and will not reconnect: restart the app.',
          );
        return;
      default:
        return;
    }
  }

  private disconnected(server: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.disconnectedSince = new Date();
    // Requests in flight cannot get their replies on this connection any more.
    this.onDisconnect();
    if (this.closing) return;
    this.logger.warn(
      `Disconnected from NATS at ${redactUrl(server)}; reconnecting. Until then, sends fail at once ` +
        'with TransportError (not sent), and requests in flight with InDoubtError.',
    );
  }

  private reconnected(server: string): void {
    // The client queues one "reconnect" per failed attempt (each closed
    // socket starts a "disconnect"): only the first after a drop is news.
    if (this.connected) return;
    const since = this.disconnectedSince;
    this.connected = true;
    this.reconnects++;
    this.lastError = undefined;
    this.disconnectedSince = undefined;
    const after = since ? ` after ${Date.now() - since.getTime()} ms` : '';
    this.logger.warn(`Reconnected to NATS at ${redactUrl(server)}${after}.`);
  }

  private failed(error: Error): void {
    if (error instanceof PermissionViolationError) return this.refused(error);
    const message = error.message;
    const repeated = message === this.lastError;
    this.lastError = message;
    if (repeated || this.closing) return;
    const hint = /authori[sz]ation|authentication/i.test(message)
      ? ' Check the credentials (token, user and password, nkey); Chronicle keeps trying.'
      : '';
    this.logger.warn(`NATS reported an error: ${message}.${hint}`);
  }

  /**
   * A permissions violation leaves the connection up: the one publish or
   * subscription is refused. Logged with the subject (no secret in it), once
   * per subject in a row, and never taken as the connection's last error.
   */
  private refused(error: PermissionViolationError): void {
    const refusal: Refusal = {
      operation: error.operation === 'subscription' ? 'subscribe' : 'publish',
      subject: error.subject,
    };
    this.onRefused(refusal);
    const key = `${refusal.operation} ${refusal.subject}`;
    if (key === this.lastRefusal || this.closing) return;
    this.lastRefusal = key;
    this.logger.warn(
      `NATS refused to let this app ${refusal.operation} ${refusal.operation === 'publish' ? 'to' : 'on'} ` +
        `"${refusal.subject}": its NATS user lacks that permission. \`npx chronicle nats-permissions ` +
        '--module <app module>` prints what the app needs.',
    );
  }
}
