import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SQL_CLIENT, type SqlClient } from '../store/index.js';
import {
  TrackingService,
  type ConsumerHealth,
  type LogHold,
} from '../tracking/index.js';
import { Transport } from '../transport/index.js';
import {
  DEFAULT_STALE_CHECKPOINT_MS,
  HEALTH_OPTIONS,
  type HealthOptions,
} from './health.options.js';

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
 *   consumers neither past the lag limits of the `health` options nor stale;
 *   a stopped segment makes the consumers `degraded`, never `down`: the app
 *   still serves commands and queries, and no other instance would fix it.
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
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
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
   * database is, or consumers pass a limit of the `health` options or are
   * stale; a stopped consumer segment only marks `consumers` degraded.
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
   * `down` while a consumer passes a limit of the `health` options
   * (`maxLagEvents`, `maxLagSeconds`, `maxHeldBackSeconds`) or a running
   * segment is stale (events it can read have waited `staleCheckpointMs` and
   * its checkpoint has not moved for as long); `failures` says which consumer
   * and segment, and how far. A stopped segment (an event failed every retry;
   * `stopped` names the consumers) only makes it `degraded`, as does state
   * that could not be read (`error`). The details give each consumer's lag in
   * events (`lag`, held-back events included) and seconds (`lagSeconds`), its
   * dead letters, its parked streams and events (`park` policy), and what
   * holds the log back.
   */
  async checkConsumers(key = 'consumers'): Promise<HealthResult> {
    let consumers: ConsumerHealth[];
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
    const hold = consumers[0]?.heldBack ?? null;
    const failures = [
      ...consumers.flatMap((c) => consumerFailures(c, this.options)),
      ...holdFailures(hold, this.options),
    ];
    return {
      [key]: {
        status: failures.length > 0 ? 'down' : 'up',
        degraded: stopped.length > 0,
        ...(failures.length > 0 ? { failures } : {}),
        ...(stopped.length > 0 ? { stopped } : {}),
        ...(hold ? { heldBack: holdDetails(hold) } : {}),
        lag: perConsumer(consumers, (c) =>
          c.segments.reduce((sum, s) => sum + s.behind, 0),
        ),
        lagSeconds: perConsumer(consumers, (c) =>
          Math.max(0, ...c.segments.map((s) => s.lagSeconds)),
        ),
        deadLetters: perConsumer(consumers, (c) => c.deadLetters),
        parkedStreams: perConsumer(consumers, (c) => c.parkedStreams),
        parkedEvents: perConsumer(consumers, (c) => c.parkedEvents),
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

/** One reason readiness is down. */
interface ConsumerFailure {
  readonly consumer?: string;
  readonly segment?: number;
  /** The option passed: `maxLagEvents`, `maxLagSeconds`, `staleCheckpointMs` or `maxHeldBackSeconds`. */
  readonly limit: keyof HealthOptions;
  readonly value: number;
  readonly max: number;
  readonly message: string;
}

/**
 * A consumer's segments past a limit. Stopped segments are left out: they
 * stay down whatever any instance does, so they are `degraded`, not unready.
 */
function consumerFailures(
  health: ConsumerHealth,
  options: HealthOptions,
): ConsumerFailure[] {
  const { maxLagEvents, maxLagSeconds } = options;
  const staleMs = options.staleCheckpointMs ?? DEFAULT_STALE_CHECKPOINT_MS;
  const failures: ConsumerFailure[] = [];
  for (const s of health.segments) {
    if (s.status === 'stopped') continue;
    const where = `Consumer "${health.consumer}" segment ${s.segment}`;
    const at = { consumer: health.consumer, segment: s.segment };
    if (maxLagEvents !== undefined && s.behind > maxLagEvents) {
      failures.push({
        ...at,
        limit: 'maxLagEvents',
        value: s.behind,
        max: maxLagEvents,
        message: `${where} is ${s.behind} events behind (maxLagEvents ${maxLagEvents}).`,
      });
    }
    if (maxLagSeconds !== undefined && s.lagSeconds > maxLagSeconds) {
      failures.push({
        ...at,
        limit: 'maxLagSeconds',
        value: s.lagSeconds,
        max: maxLagSeconds,
        message: `${where} has an event waiting for ${s.lagSeconds.toFixed(1)} s (maxLagSeconds ${maxLagSeconds}).`,
      });
    }
    // Both ages, so that an event that just arrived after a long quiet spell
    // (the checkpoint idle, rightly) does not count before it has waited too.
    const idleMs = s.checkpointIdleSeconds * 1000;
    // Only the instance that holds the segment is the one stuck: the others
    // serve, and must not all leave the load balancer for one hung handler.
    if (
      s.heldHere &&
      s.status === 'running' &&
      s.readableBehind > 0 &&
      idleMs >= staleMs &&
      s.lagSeconds * 1000 >= staleMs
    ) {
      failures.push({
        ...at,
        limit: 'staleCheckpointMs',
        value: Math.round(idleMs),
        max: staleMs,
        message:
          `${where} is stale: ${s.readableBehind} events wait and its checkpoint ` +
          `has not moved for ${Math.round(idleMs)} ms (staleCheckpointMs ${staleMs}); ` +
          `a handler may hang (owner ${s.owner ?? 'none'}).`,
      });
    }
  }
  return failures;
}

function holdFailures(
  hold: LogHold | null,
  options: HealthOptions,
): ConsumerFailure[] {
  const max = options.maxHeldBackSeconds;
  if (!hold || max === undefined || hold.ageSeconds <= max) return [];
  return [
    {
      limit: 'maxHeldBackSeconds',
      value: hold.ageSeconds,
      max,
      message:
        `The log is held back for ${hold.ageSeconds.toFixed(1)} s by open transactions ` +
        `(${hold.transactions.map((t) => t.transactionId).join(', ') || 'unknown'}; maxHeldBackSeconds ${max}).`,
    },
  ];
}

function holdDetails(hold: LogHold): Record<string, unknown> {
  return {
    since: hold.since.toISOString(),
    ageSeconds: hold.ageSeconds,
    eventsWaiting: hold.eventsWaiting,
    transactionIds: hold.transactions.map((t) => t.transactionId.toString()),
    pids: hold.transactions.flatMap((t) => (t.pid === null ? [] : [t.pid])),
  };
}

function perConsumer(
  consumers: readonly ConsumerHealth[],
  value: (c: ConsumerHealth) => number,
): Record<string, number> {
  return Object.fromEntries(consumers.map((c) => [c.consumer, value(c)]));
}
