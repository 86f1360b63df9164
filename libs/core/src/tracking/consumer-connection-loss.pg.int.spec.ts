import { createServer } from 'node:net';
import { Injectable } from '@nestjs/common';
import {
  Consumer,
  DatabaseUnavailableError,
  PgSqlClient,
  EventStore,
  HandleEvent,
  TrackingService,
  type ConsumerContext,
  type PostgresEventStore,
} from '../index.js';
import { postgresDatabase, freshSchema } from '../../test/databases.js';
import {
  Paid,
  edges,
  edgesApp,
  paid,
} from '../../test/consumer-edges.fixture.js';
import { waitUntil } from '../../test/wait-until.js';

/**
 * Kills its own batch connection the first time it sees event 2, as a
 * PostgreSQL restart would: a lost connection, not a failing handler.
 */
@Consumer('fragile', {
  batchSize: 100,
  maxAttempts: 1,
  onError: 'stop',
  retryDelayMs: 5,
})
@Injectable()
class ConnectionLosingConsumer {
  static killed = false;

  @HandleEvent(Paid)
  async onPaid(event: Paid, _: unknown, context: ConsumerContext) {
    const sql = await context.sql();
    if (event.n === 2 && !ConnectionLosingConsumer.killed) {
      ConnectionLosingConsumer.killed = true;
      await sql.query('SELECT pg_terminate_backend(pg_backend_pid())');
    }
    await sql.query(`INSERT INTO ${edges.table} (n) VALUES ($1::int)`, [
      event.n,
    ]);
  }
}

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Reaches the database through a pool that cannot connect the first time it
 * sees event 2, as a consumer's store does while PostgreSQL restarts.
 */
@Consumer('unreachable', {
  batchSize: 100,
  maxAttempts: 1,
  onError: 'stop',
  retryDelayMs: 5,
})
@Injectable()
class UnreachableDatabaseConsumer {
  static refusedAt = '';
  static refused: unknown;

  @HandleEvent(Paid)
  async onPaid(event: Paid, _: unknown, context: ConsumerContext) {
    if (event.n === 2 && UnreachableDatabaseConsumer.refused === undefined) {
      const away = PgSqlClient.connect(UnreachableDatabaseConsumer.refusedAt);
      try {
        await away.query('SELECT 1');
      } catch (error) {
        UnreachableDatabaseConsumer.refused = error;
        throw error;
      } finally {
        await away.close();
      }
    }
    const sql = await context.sql();
    await sql.query(`INSERT INTO ${edges.table} (n) VALUES ($1::int)`, [
      event.n,
    ]);
  }
}

describe('A consumer whose database connection is lost', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());

  it('is not charged a handler failure: the batch runs again, every event is projected once, the segment keeps running', async () => {
    const schema = freshSchema('lost');
    const client = database.client();
    edges.reset(`"${schema}".projection`);
    ConnectionLosingConsumer.killed = false;
    const app = await edgesApp(client, schema, [ConnectionLosingConsumer]);
    try {
      await client.query(`CREATE TABLE ${edges.table} (n int NOT NULL)`);
      const store = app.get(EventStore) as PostgresEventStore;
      await store.appendToStreams([
        {
          streamId: 'payments-1',
          expectedVersion: 'any',
          events: [1, 2, 3].map((n) => paid('w', n)),
        },
      ]);
      const projected = async () =>
        (
          await client.query<{ n: number }>(
            `SELECT n FROM ${edges.table} ORDER BY n`,
          )
        ).map((r) => r.n);
      const tracking = app.get(TrackingService);
      await waitUntil(
        async () =>
          (await projected()).length >= 3 ||
          (await tracking.health('fragile'))[0]?.healthy === false,
        'the projection to catch up, or the segment to stop',
      );
      expect(ConnectionLosingConsumer.killed).toBe(true);
      expect(await projected()).toEqual([1, 2, 3]);
      expect((await tracking.health('fragile'))[0]).toMatchObject({
        healthy: true,
      });
    } finally {
      await app.close();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it('whose database refuses connections is not charged a handler failure: the batch waits and runs again', async () => {
    const schema = freshSchema('away');
    const client = database.client();
    edges.reset(`"${schema}".projection`);
    UnreachableDatabaseConsumer.refused = undefined;
    UnreachableDatabaseConsumer.refusedAt = `postgres://postgres@127.0.0.1:${await closedPort()}/test`;
    const app = await edgesApp(client, schema, [UnreachableDatabaseConsumer]);
    try {
      await client.query(`CREATE TABLE ${edges.table} (n int NOT NULL)`);
      const store = app.get(EventStore) as PostgresEventStore;
      await store.appendToStreams([
        {
          streamId: 'payments-2',
          expectedVersion: 'any',
          events: [1, 2, 3].map((n) => paid('w', n)),
        },
      ]);
      const projected = async () =>
        (
          await client.query<{ n: number }>(
            `SELECT n FROM ${edges.table} ORDER BY n`,
          )
        ).map((r) => r.n);
      const tracking = app.get(TrackingService);
      await waitUntil(
        async () =>
          (await projected()).length >= 3 ||
          (await tracking.health('unreachable'))[0]?.healthy === false,
        'the projection to catch up, or the segment to stop',
      );
      expect(UnreachableDatabaseConsumer.refused).toBeInstanceOf(
        DatabaseUnavailableError,
      );
      expect(await projected()).toEqual([1, 2, 3]);
      expect((await tracking.health('unreachable'))[0]).toMatchObject({
        healthy: true,
      });
    } finally {
      await app.close();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
