import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Consumer,
  EventType,
  HandleEvent,
  OnReset,
  newMessageId,
  type ConsumerContext,
  type NewEvent,
  type SqlClient,
  type StoredEvent,
  type TrackingOptions,
} from '../src/index.js';

// Events and consumers shared by the tracking tests.

@EventType('tracking.Deposited')
export class Deposited {
  constructor(
    readonly account: string,
    readonly amount: number,
  ) {}
}

@EventType('tracking.Noted')
export class Noted {
  constructor(readonly text: string) {}
}

export function deposited(account: string, amount: number): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'tracking.Deposited',
    revision: 1,
    payload: { account, amount },
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

export function noted(text: string): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'tracking.Noted',
    revision: 1,
    payload: { text },
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

/** What a recorder saw: each event once, by stream, in the order it saw them. */
export class Seen {
  readonly byStream = new Map<string, number[]>();
  readonly ids: string[] = [];
  readonly instances: unknown[] = [];

  add(event: unknown, envelope: StoredEvent<object>): void {
    this.ids.push(envelope.id);
    this.instances.push(event);
    const versions = this.byStream.get(envelope.streamId) ?? [];
    versions.push(envelope.streamVersion);
    this.byStream.set(envelope.streamId, versions);
  }
}

export const recorded = { all: new Seen(), now: new Seen() };

@Consumer('recorder', { segments: 4, batchSize: 100 })
export class Recorder {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited, envelope: StoredEvent<Deposited>): void {
    recorded.all.add(event, envelope);
  }
}

@Consumer('latecomer', { startFrom: 'now' })
export class Latecomer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited, envelope: StoredEvent<Deposited>): void {
    recorded.now.add(event, envelope);
  }
}

/** Where the balances projection keeps its table: set by each test. */
export const projection = { table: '' };

/**
 * A read model kept exactly-once: each event's write commits with the
 * consumer's position, and a reset clears the table in the same transaction.
 */
@Consumer('balances', { segments: 2, batchSize: 10 })
export class BalancesProjection {
  @HandleEvent(Deposited)
  async onDeposited(
    event: Deposited,
    envelope: StoredEvent<Deposited>,
    context: ConsumerContext,
  ): Promise<void> {
    const sql = await context.sql();
    await sql.query(
      `INSERT INTO ${projection.table} (account, total, events, last_position)
       VALUES ($1::text, $2::int, 1, $3::bigint)
       ON CONFLICT (account) DO UPDATE SET total = ${projection.table}.total + EXCLUDED.total,
         events = ${projection.table}.events + 1, last_position = EXCLUDED.last_position`,
      [event.account, event.amount, envelope.position.toString()],
    );
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.sql()).query(`DELETE FROM ${projection.table}`);
  }
}

export async function createProjectionTable(
  client: SqlClient,
  table: string,
): Promise<void> {
  await client.query(
    `CREATE TABLE ${table} (account text PRIMARY KEY, total int NOT NULL, events int NOT NULL, last_position bigint NOT NULL)`,
  );
}

/** Poison: an amount below zero fails every time; the rest go into `handled`. */
export const poison = { handled: [] as number[], attempts: 0 };

@Consumer('strict', { maxAttempts: 3, retryDelayMs: 5 })
export class StrictConsumer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.amount < 0) {
      poison.attempts++;
      throw new Error(`negative amount ${event.amount}`);
    }
    poison.handled.push(event.amount);
  }
}

@Consumer('lenient', { maxAttempts: 3, retryDelayMs: 5, onError: 'skip' })
export class LenientConsumer {
  @HandleEvent(Deposited)
  onDeposited(event: Deposited): void {
    if (event.amount < 0) {
      poison.attempts++;
      throw new Error(`negative amount ${event.amount}`);
    }
    poison.handled.push(event.amount);
  }
}

/** Short intervals: tests wait for conditions, they never sleep for a fixed time. */
export const FAST_TRACKING: TrackingOptions = {
  leaseMs: 3_000,
  pollIntervalMs: 20,
  maxPollIntervalMs: 200,
};

export async function trackingApp(
  client: SqlClient,
  schema: string,
  providers: Provider[],
  tracking: TrackingOptions = FAST_TRACKING,
  enabled?: string[],
): Promise<INestApplicationContext> {
  @Module({ providers })
  class ConsumersModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        tracking,
        enabled,
      }),
      ConsumersModule,
    ],
  }).compile();
  return moduleRef.init();
}

/** The tracking tests' name for the shared wait. */
export { waitUntil as waitFor } from './wait-until.js';
