import type { MessageMetadata } from '../messages/index.js';
import type { SqlClient, StoreSchema } from '../store/index.js';
import { SystemClock, type Clock } from './clock.js';
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

/** A due schedule this instance claimed, to deliver. */
export interface ClaimedSchedule extends ScheduledMessage {
  readonly deliveryId: string;
  readonly claimToken: string;
  /** "Now" when it was claimed, by the store's clock (the database's, or a manual one). */
  readonly claimedAtMs: number;
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

/** The columns read back, as text and epoch ms so both drivers agree. */
const columns = (t: string) => `${t}.id, ${t}.kind, ${t}.type, ${t}.revision,
  ${t}.payload::text AS payload, ${t}.metadata::text AS metadata,
  (extract(epoch FROM ${t}.due_at) * 1000)::float8 AS due_ms,
  (extract(epoch FROM ${t}.occurrence_at) * 1000)::float8 AS occurrence_ms,
  ${t}.periodic::text AS periodic, ${t}.delivery_id::text AS delivery_id, ${t}.status,
  ${t}.attempts, ${t}.last_error, ${t}.claim_token::text AS claim_token`;

const at = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

/**
 * "Now" in SQL: the time a clock set by hand supplies (a ManualClock in
 * tests), else the database's clock, the one every instance shares, so a
 * machine whose clock is off neither fires early nor takes a live claim.
 */
const now = (param: string) => `COALESCE(${at(param)}, clock_timestamp())`;

const ms = (param: string) => `${param}::float8 * interval '1 millisecond'`;

const epochMs = (expression: string) =>
  `(extract(epoch FROM ${expression}) * 1000)::float8`;

/** The ids in a JSON array parameter (both drivers pass JSON text the same way). */
const idsIn = (param: string) =>
  `(SELECT jsonb_array_elements_text(${param}::jsonb))`;

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

// The due time is a given moment ($7), or a delay ($12) from now ($11).
const insertSql = (s: StoreSchema, onConflict: string) => `
  WITH due AS (SELECT COALESCE(${at('$7')}, ${now('$11')} + ${ms('$12')}) AS t),
  written AS (
    INSERT INTO ${s.table('schedules')} AS sch
      (id, kind, type, revision, payload, metadata, due_at, occurrence_at, periodic, delivery_id)
    SELECT $1::text, $2::text, $3::text, $4::int, $5::jsonb, $6::jsonb, due.t, due.t, $8::jsonb, $9::uuid
      FROM due
    ${onConflict}
    RETURNING due_at
  )
  SELECT ${epochMs('due_at')} AS due_ms,
         pg_notify($10::text, ${epochMs('due_at')}::text)::text AS notified
    FROM written`;

const UPSERT = (s: StoreSchema) =>
  insertSql(
    s,
    `ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, type = EXCLUDED.type,
       revision = EXCLUDED.revision, payload = EXCLUDED.payload, metadata = EXCLUDED.metadata,
       due_at = EXCLUDED.due_at, occurrence_at = EXCLUDED.occurrence_at,
       periodic = EXCLUDED.periodic, delivery_id = EXCLUDED.delivery_id,
       status = 'scheduled', attempts = 0, last_error = NULL,
       claim_token = NULL, claimed_until = NULL, created_at = now()`,
  );

// A periodic schedule is (re)written only when what it delivers or when it
// fires changed, so that a restart, or every instance starting, keeps the
// occurrence already armed.
const ENSURE = (s: StoreSchema) =>
  insertSql(
    s,
    `ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, type = EXCLUDED.type,
       revision = EXCLUDED.revision, payload = EXCLUDED.payload, metadata = EXCLUDED.metadata,
       periodic = EXCLUDED.periodic, due_at = EXCLUDED.due_at,
       occurrence_at = EXCLUDED.occurrence_at, delivery_id = EXCLUDED.delivery_id,
       status = 'scheduled', attempts = 0, last_error = NULL,
       claim_token = NULL, claimed_until = NULL, created_at = now()
     WHERE sch.periodic IS DISTINCT FROM EXCLUDED.periodic OR sch.kind <> EXCLUDED.kind
       OR sch.type <> EXCLUDED.type OR sch.payload IS DISTINCT FROM EXCLUDED.payload
       OR sch.status <> 'scheduled'`,
  );

const CANCEL = (s: StoreSchema) =>
  `DELETE FROM ${s.table('schedules')} WHERE id = $1::text`;

const GET = (s: StoreSchema) =>
  `SELECT ${columns('sch')} FROM ${s.table('schedules')} AS sch WHERE id = $1::text`;

// Which rows this instance can deliver: the commands whose classes it knows
// (it can rebuild and send them, wherever they are handled), and the schedule
// types and periodic methods it has handlers for. Apps sharing one store
// never claim each other's private commands.
const deliverable = (types: string) => `status = 'scheduled'
  AND type IN (SELECT jsonb_array_elements_text(${types}::jsonb))`;

// Claims as many due rows as deliveries will start at once (the poller asks
// for its free slots), so an attempt is charged only to a delivery that
// starts. Rows this instance is delivering ($6) are never claimed again by
// it, even should their lease have run out.
const CLAIM = (s: StoreSchema) => `
  WITH now AS (SELECT ${now('$1')} AS t)
  UPDATE ${s.table('schedules')} AS sch
     SET claim_token = $3::uuid, claimed_until = (SELECT t FROM now) + ${ms('$4')},
         attempts = sch.attempts + 1
    FROM (
      SELECT id FROM ${s.table('schedules')}
       WHERE ${deliverable('$2')}
         AND due_at <= (SELECT t FROM now)
         AND (claimed_until IS NULL OR claimed_until <= (SELECT t FROM now))
         AND id NOT IN ${idsIn('$6')}
       ORDER BY due_at
       LIMIT $5::int
       FOR UPDATE SKIP LOCKED
    ) AS due
   WHERE sch.id = due.id
  RETURNING ${columns('sch')}, ${epochMs('(SELECT t FROM now)')} AS now_ms`;

// The heartbeat: extends the leases of the rows this instance is delivering
// ($3: [id, claim token] pairs), so a delivery longer than the lease is not
// taken by another instance while it runs.
const RENEW = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET claimed_until = ${now('$1')} + ${ms('$2')}
   WHERE (id, claim_token::text) IN (
     SELECT pair->>0, pair->>1 FROM jsonb_array_elements($3::jsonb) AS pair)
  RETURNING id`;

// The earliest moment something may become claimable: a due time, or the end
// of another instance's claim; and now, by the same clock. Rows this
// instance is delivering ($3) are renewed as they run: not a reason to wake.
const NEXT_WAKE = (s: StoreSchema) => `
  WITH now AS (SELECT ${now('$2')} AS t)
  SELECT ${epochMs('min(GREATEST(due_at, COALESCE(claimed_until, due_at)))')} AS wake_ms,
         ${epochMs('(SELECT t FROM now)')} AS now_ms
    FROM ${s.table('schedules')}
   WHERE ${deliverable('$1')} AND id NOT IN ${idsIn('$3')}`;

const COMPLETE = (s: StoreSchema) =>
  `DELETE FROM ${s.table('schedules')} WHERE id = $1::text AND claim_token = $2::uuid RETURNING id`;

const REARM = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET due_at = ${at('$3')}, occurrence_at = ${at('$3')}, delivery_id = $4::uuid,
         attempts = 0, last_error = NULL, claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid
  RETURNING id`;

const RETRY = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET due_at = ${now('$5')} + ${ms('$3')}, last_error = $4::text,
         claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid
  RETURNING ${epochMs('due_at')} AS due_ms`;

const NOW = `SELECT ${epochMs('clock_timestamp()')} AS now_ms`;

const BURY = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET status = 'dead', last_error = $3::text, claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid`;

// A periodic occurrence that died is kept as a dead row of its own, so that the
// schedule itself can be re-armed for its next occurrence.
const BURY_OCCURRENCE = (s: StoreSchema) => `
  INSERT INTO ${s.table('schedules')}
    (id, kind, type, revision, payload, metadata, due_at, occurrence_at, delivery_id, status, attempts, last_error)
  SELECT $3::text, kind, type, revision, payload, metadata, due_at, occurrence_at, delivery_id, 'dead', attempts, $4::text
    FROM ${s.table('schedules')} WHERE id = $1::text AND claim_token = $2::uuid
  ON CONFLICT (id) DO NOTHING`;

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
    types: readonly string[];
    token: string;
    leaseMs: number;
    limit: number;
    excluding: readonly string[];
  }): Promise<ClaimedSchedule[]> {
    const rows = await this.client.query<ScheduleRow>(
      this.schema.sql(CLAIM),
      [
        this.clock.sqlNowMs() ?? null,
        JSON.stringify(options.types),
        options.token,
        options.leaseMs,
        options.limit,
        JSON.stringify(options.excluding),
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
    types: readonly string[],
    excluding: readonly string[],
  ): Promise<{ waitMs: number | undefined; nowMs: number }> {
    const [row] = await this.client.query<{
      wake_ms: number | null;
      now_ms: number;
    }>(
      this.schema.sql(NEXT_WAKE),
      [
        JSON.stringify(types),
        this.clock.sqlNowMs() ?? null,
        JSON.stringify(excluding),
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
  async bury(claimed: ClaimedSchedule, error: string): Promise<void> {
    await this.client.query(this.schema.sql(BURY), [
      claimed.id,
      claimed.claimToken,
      error,
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
