import { Inject, Injectable } from '@nestjs/common';
import { SQL_CLIENT, type SqlClient } from '../store/index.js';
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
  ) {}

  /** `up` while the transport is connected (always, in process). */
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
