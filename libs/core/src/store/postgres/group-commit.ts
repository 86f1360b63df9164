import type { AppendSignal } from '../append-signal.js';
import { ConcurrencyError } from '../concurrency.error.js';
import type { AppendResult } from '../event-store.js';
import {
  CommandAlreadyHandledError,
  DatabaseUnavailableError,
} from '../store.errors.js';
import type { ChronicleMetrics } from '../../telemetry/index.js';
import {
  appendAlone,
  observeStatement,
  appendedTypes,
  lostRace,
  parseExpected,
  satisfied,
  type Prepared,
} from './append-to-streams.js';
import { groupAppendSql, type GroupAppendRow } from './group-append-sql.js';
import type { SqlClient } from './sql-client.js';
import type { StoreSchema } from './store-schema.js';

/** How a store coalesces the appends of concurrent units of work. */
export interface GroupCommitOptions {
  /** The most units of work in one statement. Default 256. */
  readonly maxUnits?: number;
  /** The most events in one statement (a bigger unit still goes, alone). Default 4096. */
  readonly maxEvents?: number;
  /** How many append statements may run at once. Default 1. */
  readonly maxInFlight?: number;
}

/** What a store's group commit did, for tests and diagnostics. */
export interface GroupCommitStats {
  /** Append statements sent (a batch re-run alone counts once per unit). */
  statements: number;
  /** Units of work appended through the group commit. */
  units: number;
  /** The most units one statement carried. */
  largestBatch: number;
}

interface Waiting {
  readonly prepared: Prepared;
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

// A whole batch lost a race with another process: run it again a few times
// (the database re-checks every expectation), then each unit alone.
const BATCH_RACE_ATTEMPTS = 3;

/**
 * Coalesces the appends of concurrent units of work outside transactions.
 * No timer: with nothing in flight an append is sent at once, alone, with the
 * single-unit statement; while statements are in flight, appends queue, and
 * each statement that returns sends everything queued as ONE statement
 * (bounded by `maxUnits` and `maxEvents`). A batch holds at most one unit per
 * stream and per command id, and none whose stream or command id is in a
 * statement still in flight: later ones wait for the next statement, so
 * each sees the first one's committed version (a precise `ConcurrencyError`)
 * or record (`CommandAlreadyHandledError`), and writers of one stream keep
 * their order. Every unit is atomic on its own and gets its own error; a
 * statement that fails as a whole is run again unit by unit, so an error
 * lands on the unit that caused it, never on its neighbours.
 */
export class GroupCommit {
  readonly stats: GroupCommitStats = {
    statements: 0,
    units: 0,
    largestBatch: 0,
  };
  private readonly maxUnits: number;
  private readonly maxEvents: number;
  private readonly maxInFlight: number;
  private queue: Waiting[] = [];
  private inFlight = 0;
  /** The streams and command ids of the statements in flight. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
    options: GroupCommitOptions = {},
    /** Signalled once per statement with the types its units appended. */
    private readonly signal?: AppendSignal,
    /** Times each statement, with the events and units it carried. */
    private readonly metrics?: ChronicleMetrics,
  ) {
    this.maxUnits = atLeastOne(options.maxUnits ?? 256, 'maxUnits');
    this.maxEvents = atLeastOne(options.maxEvents ?? 4096, 'maxEvents');
    this.maxInFlight = atLeastOne(options.maxInFlight ?? 1, 'maxInFlight');
  }

  /** Appends one unit of work, with others if some are waiting. */
  submit(prepared: Prepared): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ prepared, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      const keys = batch.flatMap((w) => keysOf(w.prepared));
      for (const key of keys) this.busy.add(key);
      this.inFlight++;
      this.stats.units += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      const done = () => {
        for (const key of keys) this.busy.delete(key);
        this.inFlight--;
        this.pump();
      };
      // After a shared statement, its callers usually append again at once
      // (in the microtasks its results run): one turn of the event loop
      // (not a timer) lets them queue, so they go together instead of the
      // first alone and the rest behind it. A lone unit frees the slot at
      // once, so an idle store never waits.
      void this.send(batch).finally(() =>
        batch.length > 1 ? setImmediate(done) : done(),
      );
    }
  }

  /** The next batch, in queue order, skipping units that must wait for a later statement. */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const taken = new Set<string>();
    let events = 0;
    for (const waiting of this.queue) {
      const keys = keysOf(waiting.prepared);
      const fits =
        batch.length < this.maxUnits &&
        (batch.length === 0 ||
          events + waiting.prepared.eventCount <= this.maxEvents) &&
        keys.every((key) => !taken.has(key) && !this.busy.has(key));
      // A unit that waits holds its keys, so later units of its streams wait too.
      for (const key of keys) taken.add(key);
      if (fits) {
        batch.push(waiting);
        events += waiting.prepared.eventCount;
      } else rest.push(waiting);
    }
    this.queue = rest;
    return batch;
  }

  private async send(batch: readonly Waiting[]): Promise<void> {
    this.deliver(batch, await this.outcomes(batch));
  }

  /** What each unit of the batch gets: its results or its own error. */
  private async outcomes(batch: readonly Waiting[]): Promise<Outcome[]> {
    const alone = (waiting: Waiting) =>
      outcomeOf(() =>
        appendAlone(this.client, this.schema, waiting.prepared, this.metrics),
      );
    if (batch.length === 1) {
      this.stats.statements++;
      return [await alone(batch[0])];
    }
    for (let attempt = 1; ; attempt++) {
      let rows: GroupAppendRow[];
      const start = performance.now();
      try {
        this.stats.statements++;
        rows = await this.client.query<GroupAppendRow>(
          this.schema.sql(groupAppendSql),
          paramsOf(batch),
          { prepare: true },
        );
      } catch (error) {
        this.observe(start, batch);
        // The database is away: every unit would fail alike, and a re-run
        // could not tell whether the lost statement committed.
        if (error instanceof DatabaseUnavailableError) {
          return batch.map(() => ({ error }));
        }
        if (lostRace(error) && attempt < BATCH_RACE_ATTEMPTS) continue;
        // Whose fault it was is unknown: each unit alone gets its own verdict.
        this.stats.statements += batch.length;
        return Promise.all(batch.map(alone));
      }
      this.observe(start, batch);
      const byUnit = new Map<number, GroupAppendRow[]>();
      for (const row of rows) {
        const list = byUnit.get(row.unit);
        if (list) list.push(row);
        else byUnit.set(row.unit, [row]);
      }
      return Promise.all(
        batch.map((waiting, i) =>
          outcomeOf(() =>
            unitResults(waiting.prepared, byUnit.get(i + 1) ?? []),
          ),
        ),
      );
    }
  }

  private observe(start: number, batch: readonly Waiting[]): void {
    if (!this.metrics) return;
    let events = 0;
    for (const waiting of batch) events += waiting.prepared.eventCount;
    observeStatement(this.metrics, start, events, batch.length);
  }

  /** One wake-up for everything the statement committed, then every caller's answer. */
  private deliver(batch: readonly Waiting[], outcomes: Outcome[]): void {
    const types = new Set<string>();
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if (!('results' in outcome)) return;
      const appended = appendedTypes(waiting.prepared.appends, outcome.results);
      for (const type of appended) types.add(type);
    });
    // A wake-up is a hint (readers find the events on their next read): a
    // signal that throws must not turn committed appends into failures.
    if (types.size > 0) {
      try {
        this.signal?.notify([...types]);
      } catch {
        // nothing to undo
      }
    }
    batch.forEach((waiting, i) => {
      const outcome = outcomes[i];
      if ('results' in outcome) waiting.resolve(outcome.results);
      else waiting.reject(outcome.error);
    });
  }
}

type Outcome =
  { readonly results: AppendResult[] } | { readonly error: unknown };

async function outcomeOf(
  fn: () => AppendResult[] | Promise<AppendResult[]>,
): Promise<Outcome> {
  try {
    return { results: await fn() };
  } catch (error) {
    return { error };
  }
}

function keysOf(prepared: Prepared): string[] {
  const keys = prepared.appends.map((a) => `s:${a.streamId}`);
  if (prepared.command) keys.push(`c:${prepared.command.id}`);
  return keys;
}

function paramsOf(batch: readonly Waiting[]): string[] {
  const events: string[] = [];
  const expectations: string[] = [];
  const commands: string[] = [];
  const logs: string[] = [];
  for (const { prepared } of batch) {
    logs.push(prepared.logJson ?? 'null');
    events.push(prepared.eventsJson);
    expectations.push(prepared.expectationsJson);
    const command = prepared.command;
    commands.push(
      command
        ? JSON.stringify({
            id: command.id,
            type: command.type,
            // As text, so the record keeps exactly the JSON a lone append stores.
            result: prepared.resultJson,
            app: command.app ?? null,
          })
        : 'null',
    );
  }
  return [
    `[${events.join(',')}]`,
    `[${expectations.join(',')}]`,
    `[${commands.join(',')}]`,
    `[${logs.join(',')}]`,
  ];
}

/** One unit's outcome, as a lone append would have given it. */
function unitResults(
  prepared: Prepared,
  rows: readonly GroupAppendRow[],
): AppendResult[] {
  const verdict = rows[0];
  if (!verdict) throw new Error('group commit: no row came back for a unit');
  const streams = rows.filter((row) => row.stream_id !== null);
  if (!verdict.ok) {
    const failed = streams.find((row) => !satisfied(row)) ?? streams[0];
    throw new ConcurrencyError(
      failed.stream_id!,
      parseExpected(failed.expected!),
      Number(failed.current_version),
    );
  }
  if (!verdict.accepted) {
    throw new CommandAlreadyHandledError(prepared.command!.id);
  }
  const byStream = new Map(streams.map((row) => [row.stream_id!, row]));
  return prepared.appends.map((append) => {
    const row = byStream.get(append.streamId)!;
    return {
      streamId: append.streamId,
      nextExpectedVersion: Number(row.last_version ?? row.current_version),
      positions: (row.positions ?? []).map((p) => BigInt(p)),
      transactionId: BigInt(row.transaction_id ?? 0),
    };
  });
}

function atLeastOne(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `group commit: ${name} must be a whole number >= 1, got ${value}`,
    );
  }
  return value;
}
