import {
  EventStore,
  LOG_START,
  newMessageId,
  type Checkpoint,
  type NewEvent,
  type PostgresEventStore,
  type StoredEvent,
} from '@chronicle/core';
import type { INestApplication } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { followSse } from '../support/http.js';
import { row, type Row } from '../support/report.js';
import { median, percentile } from '../support/stats.js';
import type { Settings } from './benchmark.js';

// The gateway benchmark's event feed (gateway.ts runs it): the SSE feed read
// from the beginning against the raw readAll loop it is made of, and the
// live latency of a followed feed.

/** Events in the log the feed is read over. */
const FEED_EVENTS = 20_000;
const FEED_EVENTS_QUICK = 2_000;
/** What the feed reads per `readAll` (event-feed.controller.ts's BATCH). */
const FEED_BATCH = 500;
/** Events appended before timing, per append (one stream each). */
const APPEND_BATCH = 500;
/** Events appended one by one for the live latency. */
const LIVE_EVENTS = 200;
const LIVE_EVENTS_QUICK = 40;
const FEED_EVENT_TYPE = 'bench.ParcelShipped';

const FEED = 'SSE feed, one client';
const RAW_READ = 'readAll loop + JSON.stringify (no HTTP)';

/** The feed's frame of one event, built as event-feed.controller.ts builds it. */
function frameOf(event: StoredEvent): string {
  const data = JSON.stringify({
    id: event.id,
    type: event.type,
    revision: event.revision,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    position: event.position.toString(),
    timestamp: event.timestamp.toISOString(),
    metadata: event.metadata,
    payload: event.payload,
  });
  return `id: ${event.transactionId}-${event.position}\nevent: ${event.type}\ndata: ${data}\n\n`;
}

function parcelEvents(stream: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = newMessageId();
    return {
      id,
      type: FEED_EVENT_TYPE,
      revision: 1,
      payload: {
        parcelId: `p-${stream}-${i}`,
        weightKg: 1 + (i % 20),
        destination: 'Rotterdam',
      },
      metadata: { correlationId: id },
      timestamp: new Date(),
    };
  });
}

/** Reads the feed from the beginning until `count` events; returns the ids when asked to keep them. */
async function readFeed(
  url: string,
  count: number,
  keep?: string[],
): Promise<number> {
  let seen = 0;
  await followSse(`${url}?after=beginning`, (frame) => {
    keep?.push(frame.id, frame.data);
    return ++seen >= count;
  });
  return seen;
}

/** The floor under the feed: the same reads of the log, each event framed as the feed frames it, no HTTP. */
async function readRaw(store: EventStore, count: number): Promise<number> {
  let seen = 0;
  let after: Checkpoint = LOG_START;
  // Summed and checked so the framing is work whose result is used.
  let bytes = 0;
  while (seen < count) {
    const batch = await store.readAll({ after, limit: FEED_BATCH });
    for (const event of batch.events) {
      bytes += frameOf(event).length;
      if (++seen >= count) break;
    }
    after = batch.checkpoint;
    if (batch.caughtUp && seen < count) {
      throw new Error(`gateway: the log holds ${seen} events, not ${count}`);
    }
  }
  return bytes > 0 ? seen : 0;
}

/** Appends the feed's events to the gateway app's store, then measures the feed; `settings` as the command rounds use them. */
export async function eventFeed(
  gateway: INestApplication,
  settings: Settings,
  rows: Row[],
  notes: string[],
): Promise<void> {
  const total = settings.quick ? FEED_EVENTS_QUICK : FEED_EVENTS;
  const store = gateway.get(EventStore) as PostgresEventStore;
  for (let stream = 0; stream * APPEND_BATCH < total; stream++) {
    await store.append(
      `bench.Parcel-${stream}`,
      parcelEvents(
        stream,
        Math.min(APPEND_BATCH, total - stream * APPEND_BATCH),
      ),
      { expectedVersion: 'noStream' },
    );
  }
  const feedUrl = `${await gateway.getUrl()}/api/events`;

  // Before timing: the feed delivers every event once, in the log's order,
  // framed as the raw loop frames it.
  const frames: string[] = [];
  await readFeed(feedUrl, total, frames);
  const ids = frames.filter((_, i) => i % 2 === 0);
  const places = ids.map((id) => id.split('-').map(BigInt));
  const inOrder = places.every(
    ([tx, pos], i) =>
      i === 0 ||
      tx > places[i - 1][0] ||
      (tx === places[i - 1][0] && pos > places[i - 1][1]),
  );
  const parcels = new Set(
    frames
      .filter((_, i) => i % 2 === 1)
      .map(
        (d) =>
          (JSON.parse(d) as { payload: { parcelId: string } }).payload.parcelId,
      ),
  );
  if (
    ids.length !== total ||
    new Set(ids).size !== total ||
    parcels.size !== total ||
    !inOrder ||
    (await readRaw(store, total)) !== total
  ) {
    throw new Error(
      `gateway: the feed did not deliver ${total} distinct events in order before timing (${ids.length} frames, ${new Set(ids).size} ids, ${parcels.size} parcels, in order: ${inOrder})`,
    );
  }

  // One read of the whole feed per run: a warm-up each, then rounds alternating
  // who goes first; events/s per run, medians.
  const runs: { name: string; read: () => Promise<number> }[] = [
    { name: FEED, read: () => readFeed(feedUrl, total) },
    { name: RAW_READ, read: () => readRaw(store, total) },
  ];
  const rates = new Map<string, number[]>(runs.map((r) => [r.name, []]));
  const cpu = new Map<string, number[]>(runs.map((r) => [r.name, []]));
  for (const r of runs) await r.read();
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const r = runs[(round + k) % runs.length];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const read = await r.read();
      const ms = performance.now() - t0;
      const used = process.cpuUsage(cpu0);
      if (read !== total) throw new Error(`gateway: ${r.name} read ${read}`);
      rates.get(r.name)!.push((total / ms) * 1000);
      cpu.get(r.name)!.push(((used.user + used.system) / total) * 1e-3);
    }
  }
  rows.push(
    row(
      `SSE feed from after=beginning, ${total.toLocaleString('en-US')} events, one client`,
      'events/s',
      median(rates.get(FEED)!),
      { name: RAW_READ, value: median(rates.get(RAW_READ)!) },
    ),
  );

  // Live: one event appended at a time to a feed following from now; from the
  // append's call to its frame arriving at the client.
  const liveCount = settings.quick ? LIVE_EVENTS_QUICK : LIVE_EVENTS;
  const latencies: number[] = [];
  const commits: number[] = [];
  let waiting: ((frame: string) => void) | undefined;
  let framesSeen = 0;
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const following = followSse(
    `${feedUrl}?after=now`,
    (frame) => {
      waiting?.(frame.data);
      return ++framesSeen >= liveCount;
    },
    () => opened(),
  );
  // The feed reads its start (the head) before it answers: once open, it follows from there.
  await open;
  for (let i = 0; i < liveCount; i++) {
    const [event] = parcelEvents(1_000_000 + i, 1);
    const arrived = new Promise<string>((resolve) => (waiting = resolve));
    const t0 = performance.now();
    await store.append(`bench.LiveParcel-${i}`, [event], {
      expectedVersion: 'noStream',
    });
    commits.push(performance.now() - t0);
    const data = await arrived;
    latencies.push(performance.now() - t0);
    if ((JSON.parse(data) as { id: string }).id !== event.id) {
      throw new Error(`gateway: the live feed sent another event: ${data}`);
    }
  }
  await following;
  rows.push(
    row(
      `live: append to SSE frame at the client, p50`,
      'ms',
      percentile(latencies, 50),
    ),
    row(
      `live: append to SSE frame at the client, p99`,
      'ms',
      percentile(latencies, 99),
    ),
  );

  const cpuText = (name: string) =>
    `${(median(cpu.get(name)!) * 1000).toFixed(1)} us`;
  notes.push(
    `feed: ${total.toLocaleString('en-US')} events (${FEED_EVENT_TYPE}, a 3-field payload) appended before timing in ${APPEND_BATCH}-event streams; each run reads all of them once, from after=beginning to the last (the client then closes); checked before timing: ${total.toLocaleString('en-US')} distinct ids and parcels, in the log's order; "${RAW_READ}" is the same readAll of ${FEED_BATCH} at a time on the same store, each event framed as the feed frames it; medians of ${settings.rounds} runs each, alternating; CPU per event (server and client in this process): feed ${cpuText(FEED)}, raw ${cpuText(RAW_READ)}`,
    `live: a client follows ?after=now; ${liveCount} events appended one at a time through the gateway app's store (its in-process append signal wakes the feed), each waited for at the client before the next; the append alone took p50 ${percentile(commits, 50).toFixed(3)} ms of that`,
  );
}
