import type { StoreSchema } from '../store/index.js';

// The SQL of the `schedules` table, beside ScheduleStore, which runs it.
// Times travel as epoch ms (float8), so both drivers agree.

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

// The due time is a given moment ($7), or a delay ($12) from now ($11).
const insertSql = (s: StoreSchema, onConflict: string) => `
  WITH due AS (SELECT COALESCE(${at('$7')}, ${now('$11')} + ${ms('$12')}) AS t),
  written AS (
    INSERT INTO ${s.table('schedules')} AS sch
      (id, kind, type, revision, payload, metadata, due_at, occurrence_at, periodic, delivery_id)
    SELECT $1::text, $2::text, $3::text, $4::int, $5::jsonb, $6::jsonb, due.t, due.t, $8::jsonb, $9::text
      FROM due
    ${onConflict}
    RETURNING due_at
  )
  SELECT ${epochMs('due_at')} AS due_ms,
         pg_notify($10::text, ${epochMs('due_at')}::text)::text AS notified
    FROM written`;

export const UPSERT = (s: StoreSchema) =>
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
export const ENSURE = (s: StoreSchema) =>
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

// A command sent with sendAndForget: its row id is made from the command's
// id, so sending it again while it waits adds nothing (and changes nothing).
export const SEND = (s: StoreSchema) =>
  insertSql(s, 'ON CONFLICT (id) DO NOTHING');

export const CANCEL = (s: StoreSchema) =>
  `DELETE FROM ${s.table('schedules')} WHERE id = $1::text`;

export const GET = (s: StoreSchema) =>
  `SELECT ${columns('sch')} FROM ${s.table('schedules')} AS sch WHERE id = $1::text`;

// Which rows this instance can deliver: the commands whose classes it knows
// (it can rebuild and send them, wherever they are handled), and the schedule
// types and periodic methods it has handlers for. Apps sharing one store
// never claim each other's private commands. A command sent with
// sendAndForget (kind 'send') waits for an instance that handles it ($sends):
// no other instance takes it, to fail it for want of a handler.
const deliverable = (types: string, sends: string) => `status = 'scheduled'
  AND CASE WHEN kind = 'send' THEN type IN ${idsIn(sends)}
           ELSE type IN ${idsIn(types)} END`;

// Claims as many due rows as deliveries will start at once (the poller asks
// for its free slots), so an attempt is charged only to a delivery that
// starts. Rows this instance is delivering ($6) are never claimed again by
// it, even should their lease have run out.
export const CLAIM = (s: StoreSchema) => `
  WITH now AS (SELECT ${now('$1')} AS t)
  UPDATE ${s.table('schedules')} AS sch
     SET claim_token = $3::uuid, claimed_until = (SELECT t FROM now) + ${ms('$4')},
         attempts = sch.attempts + 1
    FROM (
      SELECT id FROM ${s.table('schedules')}
       WHERE ${deliverable('$2', '$7')}
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
export const RENEW = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET claimed_until = ${now('$1')} + ${ms('$2')}
   WHERE (id, claim_token::text) IN (
     SELECT pair->>0, pair->>1 FROM jsonb_array_elements($3::jsonb) AS pair)
  RETURNING id`;

// The earliest moment something may become claimable: a due time, or the end
// of another instance's claim; and now, by the same clock. Rows this
// instance is delivering ($3) are renewed as they run: not a reason to wake.
export const NEXT_WAKE = (s: StoreSchema) => `
  WITH now AS (SELECT ${now('$2')} AS t)
  SELECT ${epochMs('min(GREATEST(due_at, COALESCE(claimed_until, due_at)))')} AS wake_ms,
         ${epochMs('(SELECT t FROM now)')} AS now_ms
    FROM ${s.table('schedules')}
   WHERE ${deliverable('$1', '$4')} AND id NOT IN ${idsIn('$3')}`;

export const COMPLETE = (s: StoreSchema) =>
  `DELETE FROM ${s.table('schedules')} WHERE id = $1::text AND claim_token = $2::uuid RETURNING id`;

export const REARM = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET due_at = ${at('$3')}, occurrence_at = ${at('$3')}, delivery_id = $4::text,
         attempts = 0, last_error = NULL, claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid
  RETURNING id`;

// The outcome of a batch of deliveries that wrote nothing of their own ($1:
// [id, claim token, next occurrence ms or null, next delivery id or null]),
// in one statement: one-off rows removed, periodic rows re-armed, each only
// while this instance's claim on it holds. Returns the ids it recorded.
export const FINISH_ALL = (s: StoreSchema) => `
  WITH done AS (
    SELECT d->>0 AS id, (d->>1)::uuid AS token, (d->>2)::float8 AS next_ms, d->>3 AS delivery_id
      FROM jsonb_array_elements($1::jsonb) AS d
  ),
  removed AS (
    DELETE FROM ${s.table('schedules')} AS sch USING done
     WHERE done.next_ms IS NULL AND sch.id = done.id AND sch.claim_token = done.token
    RETURNING sch.id
  ),
  rearmed AS (
    UPDATE ${s.table('schedules')} AS sch
       SET due_at = ${at('done.next_ms')}, occurrence_at = ${at('done.next_ms')},
           delivery_id = done.delivery_id, attempts = 0, last_error = NULL,
           claim_token = NULL, claimed_until = NULL
      FROM done
     WHERE done.next_ms IS NOT NULL AND sch.id = done.id AND sch.claim_token = done.token
    RETURNING sch.id
  )
  SELECT id FROM removed UNION ALL SELECT id FROM rearmed`;

export const RETRY = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')}
     SET due_at = ${now('$5')} + ${ms('$3')}, last_error = $4::text,
         claim_token = NULL, claimed_until = NULL
   WHERE id = $1::text AND claim_token = $2::uuid
  RETURNING ${epochMs('due_at')} AS due_ms`;

export const NOW = `SELECT ${epochMs('clock_timestamp()')} AS now_ms`;

// Marks the row dead; a row that names a hand-back (on_dead, migration 16)
// also writes it, due at once, with the last try's error message ($4) in its
// payload, due by the store's clock ($5). Its ids derive from the dead row's,
// so the hand-back is one row.
export const BURY = (s: StoreSchema) => `
  WITH dead AS (
    UPDATE ${s.table('schedules')}
       SET status = 'dead', last_error = $3::text, claim_token = NULL, claimed_until = NULL
     WHERE id = $1::text AND claim_token = $2::uuid
    RETURNING id, delivery_id, metadata, on_dead
  ),
  handed_back AS (
    INSERT INTO ${s.table('schedules')}
      (id, kind, type, revision, payload, metadata, due_at, occurrence_at, delivery_id)
    SELECT 'handback:' || d.id, 'schedule', d.on_dead->>'type', 1,
           (d.on_dead->'payload') || jsonb_build_object('failed', $4::text::jsonb),
           -- The dead command's user, if any, is who the hand-back runs as (security/).
           jsonb_strip_nulls(jsonb_build_object(
             'correlationId', coalesce($4::text::jsonb->>'correlationId', d.metadata->>'correlationId', d.delivery_id::text),
             'causationId', coalesce($4::text::jsonb->>'id', d.delivery_id::text),
             'user', d.metadata->'user')),
           ${now('$5')}, ${now('$5')}, md5('handback:' || d.delivery_id::text)::uuid
      FROM dead d
     WHERE d.on_dead IS NOT NULL
    ON CONFLICT (id) DO NOTHING
    RETURNING due_at
  )
  -- Wakes the pollers, as every write of a due schedule does.
  SELECT pg_notify($6::text, ${epochMs('due_at')}::text) FROM handed_back`;

export const SET_ON_DEAD = (s: StoreSchema) => `
  UPDATE ${s.table('schedules')} SET on_dead = $2::text::jsonb WHERE id = $1::text`;

// A periodic occurrence that died is kept as a dead row of its own, so that the
// schedule itself can be re-armed for its next occurrence.
export const BURY_OCCURRENCE = (s: StoreSchema) => `
  INSERT INTO ${s.table('schedules')}
    (id, kind, type, revision, payload, metadata, due_at, occurrence_at, delivery_id, status, attempts, last_error)
  SELECT $3::text, kind, type, revision, payload, metadata, due_at, occurrence_at, delivery_id, 'dead', attempts, $4::text
    FROM ${s.table('schedules')} WHERE id = $1::text AND claim_token = $2::uuid
  ON CONFLICT (id) DO NOTHING`;

// The scrape-time gauges: schedules due now by the store's clock ($1), and dead ones.
export const COUNTS = (s: StoreSchema) => `
  SELECT count(*) FILTER (WHERE status = 'scheduled' AND due_at <= ${now('$1')})::int AS due,
         count(*) FILTER (WHERE status = 'dead')::int AS dead
    FROM ${s.table('schedules')}`;
