import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SQL_CLIENT, type SqlClient } from '../store/index.js';
import { TrackingService } from '../tracking/index.js';
import { Transport } from '../transport/index.js';

/** A health result in the shape @nestjs/terminus expects: `{ [key]: { status, ...details } }`. */
export type HealthResult = Record<
  string,
  { status: 'up' | 'down' } & Record<string, unknown>
>;

/**
 * Health of a Chronicle app, in two questions, as Kubernetes asks them:
 *
 * - liveness (`checkLiveness`): can this process still make progress by
 *   itself? Down only when a restart is the one cure (the NATS connection
 *   closed for good). Never down for a lost connection that is reconnecting,
 *   a database that is away, or a stopped consumer segment: restarting would
 *   not fix those, and a liveness probe would restart the app for ever.
 * - readiness (`checkReadiness`): can it serve now? The transport connected,
 *   the database answering (migrations ran before the app started), and the
 *   consumers' state in the details; a stopped segment makes the consumers
 *   `degraded`, never `down`: the app still serves commands and queries.
 *
 * The results are plain objects in @nestjs/terminus's shape, so each check
 * plugs into `HealthCheckService.check` without Chronicle depending on it.
 */
@Injectable()
export class ChronicleHealthIndicator implements OnModuleDestroy {
  private eventLoop?: ReturnType<typeof monitorEventLoopDelay>;

  constructor(
    private readonly transport: Transport,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    private readonly tracking: TrackingService,
  ) {}

  /**
   * `up` while the process can make progress: answering at all shows its
   * event loop turns, and `eventLoopDelayMs` is the longest it was blocked
   * since the previous check (information, not a verdict). `down` only when
   * the NATS connection is closed and will not reconnect.
   */
  checkLiveness(key = 'liveness'): HealthResult {
    const transport = this.transport.status();
    return {
      [key]: {
        status: transport.closed ? 'down' : 'up',
        eventLoopDelayMs: this.eventLoopDelayMs(),
        ...(transport.closed
          ? {
              reason: `The ${transport.kind === 'nats' ? 'NATS connection' : 'transport'} is closed and will not reconnect: restart the app.`,
            }
          : {}),
      },
    };
  }

  /**
   * Whether the app can serve: `checkTransport`, `checkDatabase` and
   * `checkConsumers` under their default keys. Down when the transport or the
   * database is; a stopped consumer segment only marks `consumers` degraded.
   */
  async checkReadiness(): Promise<HealthResult> {
    return {
      ...this.checkTransport(),
      ...(await this.checkDatabase()),
      ...(await this.checkConsumers()),
    };
  }

  /**
   * `up` while the transport is connected (always, in process); while it is
   * down, since when and the last error the connection reported (an
   * authorization error after a credential change, say). `served` gives, per
   * message type this process serves, its handlers running and requests
   * waiting now, and how many were refused as busy or expired unstarted.
   */
  checkTransport(key = 'transport'): HealthResult {
    const status = this.transport.status();
    return {
      [key]: {
        status: status.connected ? 'up' : 'down',
        kind: status.kind,
        ...(status.server ? { server: status.server } : {}),
        ...(status.reconnects !== undefined
          ? { reconnects: status.reconnects }
          : {}),
        ...(status.disconnectedSince
          ? { disconnectedSince: status.disconnectedSince.toISOString() }
          : {}),
        ...(status.lastError ? { lastError: status.lastError } : {}),
        ...servedDetails(this.transport),
      },
    };
  }

  /**
   * Always `up`: consumers fall behind or stop without stopping the app from
   * serving. `degraded` is true when a consumer has a stopped segment (an
   * event failed every retry; `stopped` names them) or their state could not
   * be read (`error`); the details give each consumer's lag (held-back events
   * included) and, when an open transaction holds the log back, since when
   * and which one.
   */
  async checkConsumers(key = 'consumers'): Promise<HealthResult> {
    let consumers: Awaited<ReturnType<TrackingService['health']>>;
    try {
      consumers = await this.tracking.health();
    } catch (error) {
      return {
        [key]: {
          status: 'up',
          degraded: true,
          error: (error as Error).message,
        },
      };
    }
    const stopped = consumers.filter((c) => !c.healthy).map((c) => c.consumer);
    const hold = consumers[0]?.heldBack;
    return {
      [key]: {
        status: 'up',
        degraded: stopped.length > 0,
        ...(stopped.length > 0 ? { stopped } : {}),
        ...(hold
          ? {
              heldBack: {
                since: hold.since.toISOString(),
                eventsWaiting: hold.eventsWaiting,
                transactionIds: hold.transactions.map((t) =>
                  t.transactionId.toString(),
                ),
                pids: hold.transactions.flatMap((t) =>
                  t.pid === null ? [] : [t.pid],
                ),
              },
            }
          : {}),
        lag: Object.fromEntries(
          consumers.map((c) => [
            c.consumer,
            c.segments.reduce((sum, s) => sum + s.behind, 0),
          ]),
        ),
      },
    };
  }

  /** `up` when the database answers a query. */
  async checkDatabase(key = 'database'): Promise<HealthResult> {
    try {
      await this.client.query('SELECT 1');
      return { [key]: { status: 'up', driver: this.client.driver } };
    } catch (error) {
      return {
        [key]: {
          status: 'down',
          driver: this.client.driver,
          message: (error as Error).message,
        },
      };
    }
  }

  onModuleDestroy(): void {
    this.eventLoop?.disable();
  }

  /** The longest event-loop block since the last call (0 on the first). */
  private eventLoopDelayMs(): number {
    if (!this.eventLoop) {
      this.eventLoop = monitorEventLoopDelay({ resolution: 20 });
      this.eventLoop.enable();
      return 0;
    }
    // The histogram counts in ns, including its own sampling resolution.
    const maxMs = this.eventLoop.count > 0 ? this.eventLoop.max / 1e6 : 0;
    this.eventLoop.reset();
    return Math.round(maxMs);
  }
}

/** Each served type's load, by type name (the subject's tail after `command.` / `query.`). */
function servedDetails(transport: Transport): Record<string, unknown> {
  const load = transport.load();
  if (load.length === 0) return {};
  return {
    served: Object.fromEntries(
      load.map(({ subject, ...counts }) => [
        subject.replace(/^chronicle\.[^.]+\.(command|query)\./, ''),
        counts,
      ]),
    ),
  };
}
