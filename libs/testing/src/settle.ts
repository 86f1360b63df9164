import type { INestApplicationContext } from '@nestjs/common';
import {
  EventStore,
  fromPayload,
  MessageTypeRegistry,
  PostgresEventStore,
  ScheduleTypeRegistry,
  SweepHandledCommands,
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

/** Waits until no schedule is due at the clock's time (each was delivered, retried later, or died). */
export async function settleSchedules(
  app: INestApplicationContext,
  clock: Clock,
): Promise<void> {
  const { store, table } = schedulesTable(app);
  await until('the due schedules to be delivered', async () => {
    const [{ due }] = await store.client.query<{ due: number }>(
      `SELECT count(*)::int AS due FROM ${table}
       WHERE status = 'scheduled' AND due_at <= to_timestamp($1::float8 / 1000)`,
      [clock.now().getTime()],
    );
    return due === 0;
  });
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

/** The messages of the pending schedules that are new or changed since `before`. */
export async function schedulesSince(
  app: INestApplicationContext,
  before: Map<string, string>,
): Promise<object[]> {
  const { store, table } = schedulesTable(app);
  const rows = await store.client.query<{
    id: string;
    type: string;
    payload: Record<string, unknown> | null;
    version: string;
  }>(
    `SELECT id, type, payload, (payload::text || due_at::text || type) AS version
     FROM ${table} WHERE status = 'scheduled' ORDER BY due_at, id`,
  );
  // Chronicle's own periodic cleanup is not something the app scheduled.
  const own = ScheduleTypeRegistry.forClass(SweepHandledCommands)?.name;
  return rows
    .filter((row) => before.get(row.id) !== row.version && row.type !== own)
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
