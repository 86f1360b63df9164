import { Inject, Injectable } from '@nestjs/common';
import { SQL_CLIENT, type SqlClient } from '../store/index.js';
import { TrackingService } from '../tracking/index.js';
import { Transport } from '../transport/index.js';

/** A health result in the shape @nestjs/terminus expects: `{ [key]: { status, ...details } }`. */
export type HealthResult = Record<
  string,
  { status: 'up' | 'down' } & Record<string, unknown>
>;

/**
 * Health of Chronicle's connections. The results are plain objects in
 * @nestjs/terminus's shape, so they plug into `HealthCheckService.check`
 * without Chronicle depending on terminus:
 *
 *   health.check([() => chronicle.checkTransport(), () => chronicle.checkDatabase()])
 */
@Injectable()
export class ChronicleHealthIndicator {
  constructor(
    private readonly transport: Transport,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    private readonly tracking: TrackingService,
  ) {}

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
   * `down` when a consumer has a stopped segment (an event failed every retry);
   * the details give each consumer's lag (held-back events included) and, when
   * an open transaction holds the log back, since when and which one.
   */
  async checkConsumers(key = 'consumers'): Promise<HealthResult> {
    const consumers = await this.tracking.health();
    const stopped = consumers.filter((c) => !c.healthy).map((c) => c.consumer);
    const hold = consumers[0]?.heldBack;
    return {
      [key]: {
        status: stopped.length === 0 ? 'up' : 'down',
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
