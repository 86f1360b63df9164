import type { INestApplicationContext } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  ERROR_MESSAGE_TYPE,
  EventStore,
  fromPayload,
  isProcessScheduleType,
  MessageRouter,
  MessageTypeRegistry,
  onCommandFailedTypes,
  PostgresEventStore,
  processManagerName,
  ScheduleTypeRegistry,
  SweepHandledCommands,
  SweepProcessHistory,
  TrackingService,
  type Clock,
} from '@chronicle/core';
import { FixtureExpectationError } from './fixture-expectation.error.js';

const DEADLINE_MS = 20_000;

async function until(
  what: string,
  done: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new FixtureExpectationError(
        `Timed out after ${DEADLINE_MS} ms waiting for ${what}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets in-process handlers (event handlers, the commands they send) finish. */
export async function settleInProcess(): Promise<void> {
  for (let i = 0; i < 10; i++)
    await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits until every consumer has handled everything in the log. A segment
 * that stopped on a failing event fails the scenario with that event's error.
 */
export async function settleConsumers(
  app: INestApplicationContext,
): Promise<void> {
  const tracking = app.get(TrackingService, { strict: false });
  await until('the consumers to catch up', async () => {
    const consumers = await tracking.health();
    for (const consumer of consumers) {
      const stopped = consumer.segments.find((s) => s.status === 'stopped');
      if (stopped) {
        throw new FixtureExpectationError(
          `Consumer "${consumer.consumer}" stopped on segment ${stopped.segment}: ${stopped.lastError?.message ?? 'unknown error'}`,
        );
      }
    }
    return consumers.every((c) => c.segments.every((s) => s.behind === 0));
  });
}

function schedulesTable(app: INestApplicationContext): {
  store: PostgresEventStore;
  table: string;
} {
  const store = app.get(EventStore) as PostgresEventStore;
  return { store, table: store.schema.table('schedules') };
}

/**
 * Waits until no schedule is due at the clock's time (each was delivered,
 * retried later, or died). A command sent with sendAndForget that this app
 * does not handle waits for an app that does: it is not waited for.
 */
export async function settleSchedules(
  app: INestApplicationContext,
  clock: Clock,
): Promise<void> {
  const { store, table } = schedulesTable(app);
  const handled = app
    .get(MessageRouter, { strict: false })
    .servedCommandTypes();
  await until('the due schedules to be delivered', async () => {
    const [{ due }] = await store.client.query<{ due: number }>(
      `SELECT count(*)::int AS due FROM ${table}
       WHERE status = 'scheduled' AND due_at <= to_timestamp($1::float8 / 1000)
         AND (kind <> 'send' OR type IN (SELECT jsonb_array_elements_text($2::jsonb)))`,
      [clock.now().getTime(), JSON.stringify(handled)],
    );
    return due === 0;
  });
}

/** Per app: each process manager's name and the command types its `@OnCommandFailed` methods take. */
const failureTypes = new WeakMap<
  INestApplicationContext,
  readonly (readonly [string, string])[]
>();

function commandFailuresHandled(
  app: INestApplicationContext,
): readonly (readonly [string, string])[] {
  let pairs = failureTypes.get(app);
  if (!pairs) {
    pairs = app
      .get(DiscoveryService, { strict: false })
      .getProviders()
      .flatMap((wrapper) => {
        const type = wrapper.metatype;
        const name = typeof type === 'function' && processManagerName(type);
        if (!name) return [];
        return onCommandFailedTypes(type).map((t) => [name, t] as const);
      });
    failureTypes.set(app, pairs);
  }
  return pairs;
}

/**
 * Waits until every live instance whose command died (its outbox row is
 * dead) and whose process manager has an `@OnCommandFailed` method for it
 * has run that step. The step is a schedule written with the dead row and
 * delivered by the scheduler (of this app or another): only the instance's
 * history says it ran.
 */
export async function settleCommandFailures(
  app: INestApplicationContext,
): Promise<void> {
  const pairs = commandFailuresHandled(app);
  if (pairs.length === 0) return;
  const store = app.get(EventStore) as PostgresEventStore;
  const table = (name: string) => store.schema.table(name);
  await until("the process managers' @OnCommandFailed steps", async () => {
    const [{ waiting }] = await store.client.query<{ waiting: number }>(
      `WITH failed AS (
         SELECT st.name, st.key, count(DISTINCT sc.id) AS dead
         FROM ${table('process_steps')} st
         JOIN ${table('schedules')} sc
           ON sc.kind = 'send' AND sc.status = 'dead'
          AND st.commands @> jsonb_build_array(sc.delivery_id::text)
         WHERE (st.name, sc.type) IN
           (SELECT p->>0, p->>1 FROM jsonb_array_elements($1::jsonb) p)
         GROUP BY st.name, st.key
       )
       SELECT count(*)::int AS waiting
       FROM failed f
       JOIN ${table('process_instances')} i ON i.name = f.name AND i.key = f.key
       WHERE i.status = 'live'
         AND f.dead > (SELECT count(*) FROM ${table('process_steps')} e
                       WHERE e.name = f.name AND e.key = f.key AND e.event_type = $2::text)`,
      [JSON.stringify(pairs), ERROR_MESSAGE_TYPE],
    );
    return waiting === 0;
  });
}

/**
 * Changes whenever an event is appended or a schedule is written, delivered
 * or removed: equal before and after a round of settling, nothing happened.
 */
export async function quietMark(app: INestApplicationContext): Promise<string> {
  const store = app.get(EventStore) as PostgresEventStore;
  const [{ mark }] = await store.client.query<{ mark: string }>(
    `SELECT (SELECT coalesce(max(position), 0) FROM ${store.schema.events})::text || '/' ||
            (SELECT count(*) FROM ${store.schema.table('schedules')})::text || '/' ||
            coalesce((SELECT md5(string_agg(id || status || due_at::text || attempts::text || coalesce(delivery_id::text, ''), ',' ORDER BY id))
                      FROM ${store.schema.table('schedules')}), '') AS mark`,
  );
  return mark;
}

/** A fingerprint of every pending schedule, to tell which ones an action wrote. */
export async function scheduleVersions(
  app: INestApplicationContext,
): Promise<Map<string, string>> {
  const { store, table } = schedulesTable(app);
  const rows = await store.client.query<{ id: string; version: string }>(
    `SELECT id, (payload::text || due_at::text || type) AS version FROM ${table} WHERE status = 'scheduled'`,
  );
  return new Map(rows.map((r) => [r.id, r.version]));
}

/**
 * The messages of the pending schedules that are new or changed since
 * `before`: what the action scheduled (`sends: false`), or the commands it
 * sent with sendAndForget that still wait for an app that handles them
 * (`sends: true`).
 */
export async function schedulesSince(
  app: INestApplicationContext,
  before: Map<string, string>,
  sends = false,
): Promise<object[]> {
  const { store, table } = schedulesTable(app);
  const rows = await store.client.query<{
    id: string;
    type: string;
    payload: Record<string, unknown> | null;
    version: string;
  }>(
    `SELECT id, type, payload, (payload::text || due_at::text || type) AS version
     FROM ${table} WHERE status = 'scheduled' AND (kind = 'send') = $1::boolean
     ORDER BY due_at, id`,
    [sends],
  );
  // Chronicle's own periodic cleanups are not something the app scheduled; a
  // process manager's deadlines have expectations of their own, and its dead
  // commands handed back are its steps.
  const own = [SweepHandledCommands, SweepProcessHistory].map(
    (type) => ScheduleTypeRegistry.forClass(type)?.name,
  );
  return rows
    .filter(
      (row) =>
        before.get(row.id) !== row.version &&
        !own.includes(row.type) &&
        !isProcessScheduleType(row.type),
    )
    .map((row) => {
      const target =
        MessageTypeRegistry.forName(row.type)?.target ??
        ScheduleTypeRegistry.forName(row.type)?.target;
      // A @Periodic method's occurrence has no message: show what is there.
      return target
        ? fromPayload(target, row.payload ?? {})
        : { type: row.type, payload: row.payload };
    });
}
