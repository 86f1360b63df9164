import type { MessageMetadata } from '../messages/index.js';
import type { SqlClient, StoreSchema } from '../store/index.js';
import { SystemClock, type Clock } from './clock.js';
import {
  UPSERT,
  ENSURE,
  CANCEL,
  GET,
  CLAIM,
  RENEW,
  NEXT_WAKE,
  COMPLETE,
  REARM,
  FINISH_ALL,
  RETRY,
  NOW,
  BURY,
  SET_ON_DEAD,
  BURY_OCCURRENCE,
  SEND,
  COUNTS,
} from './schedule-sql.js';
import type { StoredPeriodic } from './periodic.js';
import type { ScheduleKind, ScheduledMessage } from './scheduled-message.js';

/** A schedule to write: a new one, or the replacement of one with the same id. */
export interface NewSchedule {
  readonly id: string;
  readonly kind: ScheduleKind;
  readonly type: string;
  readonly revision: number;
  readonly payload: Record<string, unknown> | null;
  readonly metadata: MessageMetadata;
  /** When it is due: a moment (epoch ms), or a delay from now by the store's clock. */
  readonly due: { readonly atMs: number } | { readonly delayMs: number };
  readonly periodic?: StoredPeriodic;
  readonly deliveryId: string;
}

/** What an instance delivers, by the rows' `type`. */
export interface Deliverable {
  /** Schedule types and periodic ids it has handlers for, and the command types it knows. */
  readonly types: readonly string[];
  /** The command types it handles: the sendAndForget rows it takes. */
  readonly sends: readonly string[];
}

/** A due schedule this instance claimed, to deliver. */
export interface ClaimedSchedule extends ScheduledMessage {
  readonly deliveryId: string;
  readonly claimToken: string;
  /** "Now" when it was claimed, by the store's clock (the database's, or a manual one). */
  readonly claimedAtMs: number;
}

/**
 * A schedule delivered without writes of its own: its row is still to be
 * removed, or (periodic) re-armed for `nextMs` under `nextDeliveryId`.
 */
export interface Delivered {
  readonly claimed: ClaimedSchedule;
  readonly nextMs?: number;
  readonly nextDeliveryId: string;
}

interface ScheduleRow {
  id: string;
  kind: ScheduleKind;
  type: string;
  revision: number;
  payload: string | null;
  metadata: string;
  due_ms: number;
  occurrence_ms: number;
  periodic: string | null;
  delivery_id: string;
  status: 'scheduled' | 'dead';
  attempts: number;
  last_error: string | null;
  claim_token: string | null;
  now_ms?: number;
}

function toScheduled(row: ScheduleRow): ClaimedSchedule {
  return {
    id: row.id,
    kind: row.kind,
    type: row.type,
    revision: Number(row.revision),
    payload: row.payload === null ? null : JSON.parse(row.payload),
    metadata: JSON.parse(row.metadata) as MessageMetadata,
    dueAt: new Date(Number(row.due_ms)),
    occurrenceAt: new Date(Number(row.occurrence_ms)),
    ...(row.periodic ? { periodic: JSON.parse(row.periodic) } : {}),
    status: row.status,
    attempts: Number(row.attempts),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    deliveryId: row.delivery_id,
    claimToken: row.claim_token ?? '',
    claimedAtMs: Number(row.now_ms ?? 0),
  };
}

/** The SQL of the `schedules` table, one method per operation. */
export class ScheduleStore {
  /** The NOTIFY channel that tells pollers a schedule was written. */
  readonly channel: string;

  constructor(
    readonly client: SqlClient,
    readonly schema: StoreSchema,
    /** Supplies "now" to SQL only when set by hand; else the database's clock is used. */
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.channel = `${schema.name}_schedules`.slice(0, 63);
  }

  /** Now, by the store's clock: the database's, or one set by hand. */
  async nowMs(): Promise<number> {
    const fixed = this.clock.sqlNowMs();
    if (fixed !== undefined) return fixed;
    const [row] = await this.client.query<{ now_ms: number }>(NOW);
    return Number(row.now_ms);
  }

  /**
   * Writes a schedule, replacing one with the same id; NOTIFY on commit.
   * Returns its due time as stored.
   */
  async upsert(tx: SqlClient, schedule: NewSchedule): Promise<number> {
    const [row] = await tx.query<{ due_ms: number }>(
      this.schema.sql(UPSERT),
      this.params(schedule),
      { prepare: true },
    );
    return Number(row.due_ms);
  }

  /**
   * Writes a periodic schedule unless it exists with the same definition and
   * message. Returns its due time when it was written, else undefined.
   */
  async ensure(
    tx: SqlClient,
    schedule: NewSchedule,
  ): Promise<number | undefined> {
    const [row] = await tx.query<{ due_ms: number }>(
      this.schema.sql(ENSURE),
      this.params(schedule),
    );
    return row === undefined ? undefined : Number(row.due_ms);
  }

  /**
   * Writes a command sent with sendAndForget, due at once, unless its row is
   * there already (sent again while it waits). Returns its due time when written.
   */
  async send(
    tx: SqlClient,
    schedule: NewSchedule,
  ): Promise<number | undefined> {
    const [row] = await tx.query<{ due_ms: number }>(
      this.schema.sql(SEND),
      this.params(schedule),
    );
    return row === undefined ? undefined : Number(row.due_ms);
  }

  async cancel(tx: SqlClient, id: string): Promise<void> {
    await tx.query(this.schema.sql(CANCEL), [id]);
  }

  async get(id: string): Promise<ScheduledMessage | undefined> {
    const [row] = await this.client.query<ScheduleRow>(this.schema.sql(GET), [
      id,
    ]);
    if (!row) return undefined;
    const {
      deliveryId: _d,
      claimToken: _c,
      claimedAtMs: _n,
      ...scheduled
    } = toScheduled(row);
    return scheduled;
  }

  /**
   * Claims up to `limit` due schedules for `leaseMs`, skipping rows others
   * hold and the ones in `excluding` (those this instance is delivering).
   */
  async claim(options: {
    types: Deliverable;
    token: string;
    leaseMs: number;
    limit: number;
    excluding: readonly string[];
  }): Promise<ClaimedSchedule[]> {
    const rows = await this.client.query<ScheduleRow>(
      this.schema.sql(CLAIM),
      [
        this.clock.sqlNowMs() ?? null,
        JSON.stringify(options.types.types),
        options.token,
        options.leaseMs,
        options.limit,
        JSON.stringify(options.excluding),
        JSON.stringify(options.types.sends),
      ],
      { prepare: true },
    );
    return rows.map(toScheduled);
  }

  /** Extends the claims this instance holds by `leaseMs` from now; returns the ids still held. */
  async renew(
    claims: readonly { readonly id: string; readonly claimToken: string }[],
    leaseMs: number,
  ): Promise<string[]> {
    if (claims.length === 0) return [];
    const rows = await this.client.query<{ id: string }>(
      this.schema.sql(RENEW),
      [
        this.clock.sqlNowMs() ?? null,
        leaseMs,
        JSON.stringify(claims.map((c) => [c.id, c.claimToken])),
      ],
      { prepare: true },
    );
    return rows.map((row) => row.id);
  }

  /**
   * How long until a poller should look again (ms, by the store's clock;
   * 0 or less when something is claimable now), or undefined when nothing it
   * can deliver is waiting. `excluding`: the rows it is delivering.
   */
  async nextWake(
    types: Deliverable,
    excluding: readonly string[],
  ): Promise<{ waitMs: number | undefined; nowMs: number }> {
    const [row] = await this.client.query<{
      wake_ms: number | null;
      now_ms: number;
    }>(
      this.schema.sql(NEXT_WAKE),
      [
        JSON.stringify(types.types),
        this.clock.sqlNowMs() ?? null,
        JSON.stringify(excluding),
        JSON.stringify(types.sends),
      ],
      { prepare: true },
    );
    const nowMs = Number(row.now_ms);
    return {
      waitMs: row.wake_ms === null ? undefined : Number(row.wake_ms) - nowMs,
      nowMs,
    };
  }

  /** Removes a delivered one-off schedule; false when the claim was lost (replaced, cancelled, expired). */
  async complete(tx: SqlClient, claimed: ClaimedSchedule): Promise<boolean> {
    const rows = await tx.query(
      this.schema.sql(COMPLETE),
      [claimed.id, claimed.claimToken],
      { prepare: true },
    );
    return rows.length > 0;
  }

  /** Arms a periodic schedule's next occurrence; false when the claim was lost. */
  async rearm(
    tx: SqlClient,
    claimed: ClaimedSchedule,
    nextMs: number,
    deliveryId: string,
  ): Promise<boolean> {
    const rows = await tx.query(
      this.schema.sql(REARM),
      [claimed.id, claimed.claimToken, nextMs, deliveryId],
      { prepare: true },
    );
    return rows.length > 0;
  }

  /**
   * Records the outcome of deliveries that wrote nothing of their own, in one
   * statement: one-off rows removed, periodic ones re-armed for `nextMs` under
   * a new delivery id; each only if this instance's claim still holds.
   * Returns the ids recorded (the others' claims were lost).
   */
  async finishAll(delivered: readonly Delivered[]): Promise<Set<string>> {
    if (delivered.length === 0) return new Set();
    const rows = await this.client.query<{ id: string }>(
      this.schema.sql(FINISH_ALL),
      [
        JSON.stringify(
          delivered.map((d) => [
            d.claimed.id,
            d.claimed.claimToken,
            d.nextMs ?? null,
            d.nextMs === undefined ? null : d.nextDeliveryId,
          ]),
        ),
      ],
      { prepare: true },
    );
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Releases a failed try, to be tried again `pauseMs` from now. Returns when
   * that is, or undefined when the claim was lost meanwhile.
   */
  async retry(
    claimed: ClaimedSchedule,
    pauseMs: number,
    error: string,
  ): Promise<number | undefined> {
    const [row] = await this.client.query<{ due_ms: number }>(
      this.schema.sql(RETRY),
      [
        claimed.id,
        claimed.claimToken,
        pauseMs,
        error,
        this.clock.sqlNowMs() ?? null,
      ],
    );
    return row === undefined ? undefined : Number(row.due_ms);
  }

  /** Records a one-off schedule as dead, with its last error. */
  /**
   * Records a one-off schedule as dead; when the row names a hand-back
   * (`on_dead`, see `handBackOnDeath`), the same statement writes that
   * schedule, due at once, with `failed` (the error message of the last try)
   * in its payload: the reaction to a death is stored with it, by whichever
   * app buried the row, or not at all.
   */
  async bury(
    claimed: ClaimedSchedule,
    error: string,
    failed: Record<string, unknown> = {},
  ): Promise<void> {
    await this.client.query(this.schema.sql(BURY), [
      claimed.id,
      claimed.claimToken,
      error,
      JSON.stringify(failed),
      this.clock.sqlNowMs() ?? null,
      this.channel,
    ]);
  }

  /**
   * Makes the schedule `id` (written in `tx`) hand its death back: should it
   * die, a schedule of `type` with `payload` plus `failed` is written (see
   * `bury`), for the app that handles `type` to claim.
   */
  async handBackOnDeath(
    tx: SqlClient,
    id: string,
    handBack: { readonly type: string; readonly payload: object },
  ): Promise<void> {
    await tx.query(this.schema.sql(SET_ON_DEAD), [
      id,
      JSON.stringify(handBack),
    ]);
  }

  /** Records a periodic occurrence as dead (as a row of its own) and arms the next one. */
  async buryOccurrence(
    claimed: ClaimedSchedule,
    error: string,
    nextMs: number,
    deliveryId: string,
  ): Promise<void> {
    await this.client.transaction(async (tx) => {
      await tx.query(this.schema.sql(BURY_OCCURRENCE), [
        claimed.id,
        claimed.claimToken,
        `${claimed.id}@${claimed.occurrenceAt.toISOString()}`,
        error,
      ]);
      await this.rearm(tx, claimed, nextMs, deliveryId);
    });
  }

  /** How many schedules are due now (not delivered yet) and how many are dead: one statement. */
  async counts(): Promise<{ due: number; dead: number }> {
    const [row] = await this.client.query<{ due: number; dead: number }>(
      this.schema.sql(COUNTS),
      [this.clock.sqlNowMs() ?? null],
    );
    return { due: Number(row?.due ?? 0), dead: Number(row?.dead ?? 0) };
  }

  private params(schedule: NewSchedule) {
    return [
      schedule.id,
      schedule.kind,
      schedule.type,
      schedule.revision,
      schedule.payload === null ? null : JSON.stringify(schedule.payload),
      JSON.stringify(schedule.metadata),
      'atMs' in schedule.due ? schedule.due.atMs : null,
      schedule.periodic ? JSON.stringify(schedule.periodic) : null,
      schedule.deliveryId,
      this.channel,
      this.clock.sqlNowMs() ?? null,
      'delayMs' in schedule.due ? schedule.due.delayMs : 0,
    ];
  }
}
