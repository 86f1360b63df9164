import type { MessageMetadata } from '../messages/index.js';
import type { SqlClient, StoreSchema } from '../store/index.js';
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
  readonly dueMs: number;
  readonly periodic?: StoredPeriodic;
  readonly deliveryId: string;
}

/** A due schedule this instance claimed, to deliver. */
export interface ClaimedSchedule extends ScheduledMessage {
  readonly deliveryId: string;
  readonly claimToken: string;
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
}

/** The columns read back, as text and epoch ms so both drivers agree. */
const columns = (t: string) => `${t}.id, ${t}.kind, ${t}.type, ${t}.revision,
  ${t}.payload::text AS payload, ${t}.metadata::text AS metadata,
  (extract(epoch FROM ${t}.due_at) * 1000)::float8 AS due_ms,
  (extract(epoch FROM ${t}.occurrence_at) * 1000)::float8 AS occurrence_ms,
  ${t}.periodic::text AS periodic, ${t}.delivery_id::text AS delivery_id, ${t}.status,
  ${t}.attempts, ${t}.last_error, ${t}.claim_token::text AS claim_token`;

const at = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

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
  };
}

const insertSql = (s: StoreSchema, onConflict: string) => `
  WITH written AS (
    INSERT INTO ${s.table('schedules')} AS sch
      (id, kind, type, revision, payload, metadata, due_at, occurrence_at, periodic, delivery_id)
    VALUES ($1::text, $2::text, $3::text, $4::int, $5::jsonb, $6::jsonb, ${at('$7')}, ${at('$7')}, $8::jsonb, $9::uuid)
    ${onConflict}
    RETURNING due_at
  )
  SELECT pg_notify($10::text, ((extract(epoch FROM due_at) * 1000)::float8)::text) FROM written`;

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

const CLAIM = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')} AS sch
     SET claim_token = $3::uuid, claimed_until = ${at('$4')}, attempts = sch.attempts + 1
    FROM (
      SELECT id FROM ${s.table('schedules')}
       WHERE ${deliverable('$2')}
         AND due_at <= ${at('$1')}
         AND (claimed_until IS NULL OR claimed_until <= ${at('$1')})
       ORDER BY due_at
       LIMIT $5::int
       FOR UPDATE SKIP LOCKED
    ) AS due
   WHERE sch.id = due.id
  RETURNING ${columns('sch')}`;

// The earliest moment something may become claimable: a due time, or the end
// of another instance's claim.
const NEXT_WAKE = (s: StoreSchema) => `
  SELECT (extract(epoch FROM min(GREATEST(due_at, COALESCE(claimed_until, due_at)))) * 1000)::float8 AS wake_ms
    FROM ${s.table('schedules')}
   WHERE ${deliverable('$1')}`;

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
     SET due_at = ${at('$3')}, last_error = $4::text, claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid`;

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
  ) {
    this.channel = `${schema.name}_schedules`.slice(0, 63);
  }

  /** Writes a schedule, replacing one with the same id; NOTIFY on commit. */
  async upsert(tx: SqlClient, schedule: NewSchedule): Promise<void> {
    await tx.query(this.schema.sql(UPSERT), this.params(schedule), {
      prepare: true,
    });
  }

  /** Writes a periodic schedule unless it exists with the same definition and message. */
  async ensure(tx: SqlClient, schedule: NewSchedule): Promise<void> {
    await tx.query(this.schema.sql(ENSURE), this.params(schedule));
  }

  async cancel(tx: SqlClient, id: string): Promise<void> {
    await tx.query(this.schema.sql(CANCEL), [id]);
  }

  async get(id: string): Promise<ScheduledMessage | undefined> {
    const [row] = await this.client.query<ScheduleRow>(this.schema.sql(GET), [
      id,
    ]);
    if (!row) return undefined;
    const { deliveryId: _d, claimToken: _c, ...scheduled } = toScheduled(row);
    return scheduled;
  }

  /** Claims up to `limit` due schedules until `leaseUntilMs`, skipping rows others hold. */
  async claim(options: {
    nowMs: number;
    types: readonly string[];
    token: string;
    leaseUntilMs: number;
    limit: number;
  }): Promise<ClaimedSchedule[]> {
    const rows = await this.client.query<ScheduleRow>(
      this.schema.sql(CLAIM),
      [
        options.nowMs,
        JSON.stringify(options.types),
        options.token,
        options.leaseUntilMs,
        options.limit,
      ],
      { prepare: true },
    );
    return rows.map(toScheduled);
  }

  /** When a poller should look again, or undefined when nothing it can deliver is waiting. */
  async nextWake(types: readonly string[]): Promise<number | undefined> {
    const [row] = await this.client.query<{ wake_ms: number | null }>(
      this.schema.sql(NEXT_WAKE),
      [JSON.stringify(types)],
      { prepare: true },
    );
    return row?.wake_ms === null || row === undefined
      ? undefined
      : Number(row.wake_ms);
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

  /** Releases a failed try, to be tried again at `retryMs`. */
  async retry(
    claimed: ClaimedSchedule,
    retryMs: number,
    error: string,
  ): Promise<void> {
    await this.client.query(this.schema.sql(RETRY), [
      claimed.id,
      claimed.claimToken,
      retryMs,
      error,
    ]);
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
      schedule.dueMs,
      schedule.periodic ? JSON.stringify(schedule.periodic) : null,
      schedule.deliveryId,
      this.channel,
    ];
  }
}
