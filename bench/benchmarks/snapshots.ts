import {
  Aggregate,
  AggregateRepository,
  aggregateRepositoryToken,
  EventStore,
  SnapshotWriter,
  type PostgresEventStore,
} from '@chronicle/core';
import type { INestApplicationContext } from '@nestjs/common';
import {
  Account,
  ACCOUNT_TYPE,
  accountStream,
  foldAccount,
  seedEnvelopes,
  type AccountState,
} from '../domain/account.js';
import { createChronicleApp } from '../support/chronicle-app.js';
import { BenchDatabase } from '../support/database.js';
import { compare, summaryOf, type Summary } from '../support/measure.js';
import { row, type Row } from '../support/report.js';
import type { Benchmark } from './benchmark.js';

const EVENTS = 100_000;
const BATCH = 20_000;
const AIM_MS = 5;
const ACCOUNT_ID = 'long-lived';

/** The bench account with snapshots on: the same streams, the same @Apply methods. */
@Aggregate({ type: ACCOUNT_TYPE, snapshotEvery: 500 })
class SnapshottedAccount extends Account {}

const COLD = 'Chronicle load, no snapshot, no cache';
const RAW_COLD = 'raw pg SELECT + fold';
const SNAPSHOT = 'Chronicle load from snapshot';
const RAW_SNAPSHOT = 'raw pg SELECT snapshot + later events + fold';
const CACHED = 'Chronicle load, cached';
const RAW_CACHED = 'JSON.parse + raw pg SELECT later events + fold';

/** What every contender must agree on. */
function key(s: AccountState): string {
  return JSON.stringify([
    s.owner,
    s.currency,
    s.balance,
    s.movements,
    s.lastReference,
    s.version,
  ]);
}

function stateOf(a: Account): AccountState {
  return {
    owner: a.owner,
    currency: a.currency,
    balance: a.balance,
    movements: a.movements,
    lastReference: a.lastReference,
    version: a.version,
  };
}

export const snapshotsBenchmark: Benchmark = {
  name: 'snapshots',
  description: `load a ${EVENTS.toLocaleString('en-US')}-event aggregate cold, from a snapshot, and cached, vs raw pg doing the same reads`,
  async run(settings) {
    const db = new BenchDatabase();
    let app: INestApplicationContext | undefined;
    try {
      app = await createChronicleApp({
        client: db.client,
        schema: db.reserveSchema('snapshots'),
        aggregates: [SnapshottedAccount],
        aggregatesOptions: { cache: true },
      });
      await db.warmPool();
      const store = app.get(EventStore) as PostgresEventStore;
      const streamId = accountStream(ACCOUNT_ID);
      for (let from = 0; from < EVENTS; from += BATCH) {
        await store.append(streamId, seedEnvelopes(from, BATCH), {
          expectedVersion: from,
        });
      }
      // Three ways to load the same stream: read-only repositories for the
      // first two, the app's own (cache and snapshots on) for the third.
      const cold = new AggregateRepository(Account, store, undefined);
      const writer = app.get(SnapshotWriter);
      const fromSnapshot = new AggregateRepository(
        SnapshottedAccount,
        store,
        undefined,
        { snapshots: writer },
      );
      const cached = app.get<AggregateRepository<SnapshottedAccount>>(
        aggregateRepositoryToken(SnapshottedAccount),
      );
      await fromSnapshot.snapshot(await cold.load(ACCOUNT_ID));
      await cached.load(ACCOUNT_ID); // fills the cache

      const eventsSql = `SELECT type, payload FROM ${store.schema.events} WHERE stream_id = $1::text AND stream_version > $2::bigint ORDER BY stream_version`;
      const snapshotSql = `SELECT stream_version::text AS version, state FROM ${store.schema.table('snapshots')} WHERE stream_id = $1::text ORDER BY stream_version DESC LIMIT 1`;
      const fold = (
        start: AccountState,
        rows: readonly { type: string; payload: unknown }[],
      ): AccountState => {
        const tail = foldAccount(rows);
        return {
          ...start,
          balance: start.balance + tail.balance,
          movements: start.movements + tail.movements,
          lastReference: rows.length ? tail.lastReference : start.lastReference,
          version: start.version + tail.version,
        };
      };
      const later = async (version: number) =>
        (
          await db.pool.query<{ type: string; payload: unknown }>(eventsSql, [
            streamId,
            version,
          ])
        ).rows;
      const rawCold = async () => foldAccount(await later(0));
      const rawSnapshot = async () => {
        const [snap] = (
          await db.pool.query<{ version: string; state: AccountState }>(
            snapshotSql,
            [streamId],
          )
        ).rows;
        const version = Number(snap.version);
        return fold({ ...snap.state, version }, await later(version));
      };
      const cachedText = JSON.stringify(stateOf(await cold.load(ACCOUNT_ID)));
      const rawCached = async () => {
        const state = JSON.parse(cachedText) as AccountState;
        return fold(state, await later(state.version));
      };

      // Every contender must reach the same state before any is timed.
      const expected = key(stateOf(await cold.load(ACCOUNT_ID)));
      const results: [string, AccountState][] = [
        [SNAPSHOT, stateOf(await fromSnapshot.load(ACCOUNT_ID))],
        [CACHED, stateOf(await cached.load(ACCOUNT_ID))],
        [RAW_COLD, await rawCold()],
        [RAW_SNAPSHOT, await rawSnapshot()],
        [RAW_CACHED, await rawCached()],
      ];
      for (const [name, state] of results) {
        if (key(state) !== expected) {
          throw new Error(
            `snapshots: ${name} built ${key(state)}, expected ${expected}`,
          );
        }
      }

      const slow = await compare(
        [
          { name: COLD, op: () => cold.load(ACCOUNT_ID) },
          { name: RAW_COLD, op: rawCold },
        ],
        { ...settings, rounds: 3, roundSeconds: 1, minOps: 3, concurrency: 1 },
      );
      const fast = await compare(
        [
          { name: SNAPSHOT, op: () => fromSnapshot.load(ACCOUNT_ID) },
          { name: RAW_SNAPSHOT, op: rawSnapshot },
          { name: CACHED, op: () => cached.load(ACCOUNT_ID) },
          { name: RAW_CACHED, op: rawCached },
        ],
        { ...settings, roundSeconds: 1, minOps: 20, concurrency: 1 },
      );
      const n = EVENTS.toLocaleString('en-US');
      const latency = (
        label: string,
        ours: Summary,
        baseline: string,
        theirs: Summary,
      ): Row[] => [
        row(`${label}, p50`, 'ms', ours.p50Ms, {
          name: baseline,
          value: theirs.p50Ms,
        }),
        row(`${label}, p99`, 'ms', ours.p99Ms, {
          name: baseline,
          value: theirs.p99Ms,
        }),
      ];
      const snapshot = summaryOf(fast, SNAPSHOT);
      const cache = summaryOf(fast, CACHED);
      const rows = [
        ...latency(
          `load ${n}-event aggregate cold`,
          summaryOf(slow, COLD),
          RAW_COLD,
          summaryOf(slow, RAW_COLD),
        ),
        ...latency(
          `load ${n}-event aggregate from its snapshot`,
          snapshot,
          RAW_SNAPSHOT,
          summaryOf(fast, RAW_SNAPSHOT),
        ),
        ...latency(
          `load ${n}-event aggregate, cached`,
          cache,
          RAW_CACHED,
          summaryOf(fast, RAW_CACHED),
        ),
      ];
      const verdict = (ms: number) => (ms < AIM_MS ? 'MET' : 'NOT MET');
      return {
        rows,
        notes: [
          `aim: with snapshot or cache under ${AIM_MS} ms: snapshot ${verdict(snapshot.p50Ms)} (p50 ${snapshot.p50Ms.toFixed(3)} ms), cache ${verdict(cache.p50Ms)} (p50 ${cache.p50Ms.toFixed(3)} ms)`,
          'every load still reads the events after its snapshot or cached version: one round trip, which is what keeps the cache from serving stale state',
          `cold loads per round: ${summaryOf(slow, COLD).rounds[0].ops}`,
        ],
      };
    } finally {
      await app?.close();
      await db.close();
    }
  },
};
