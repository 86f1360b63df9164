import {
  Counter,
  Gauge,
  Histogram,
  register as defaultRegistry,
  type Registry,
} from 'prom-client';
import {
  SeriesCounter,
  SeriesHistogram,
  type CounterSeries,
  type HistogramSeries,
} from './series-instruments.js';

/** What ran a handler: a command or query handler, a consumer, a schedule delivery. */
export type HandledKind = 'command' | 'query' | 'event' | 'schedule';

/**
 * How a handling ended: `rejected` when the handler refused the message by
 * its rules (a declared `@ErrorType` error, a `ValidationError`), `failed`
 * for anything else thrown.
 */
export type Outcome = 'ok' | 'rejected' | 'failed';

/** What the scrape-time gauges show: read from the database when Prometheus scrapes. */
export interface ScrapeSnapshot {
  readonly consumers: readonly {
    readonly consumer: string;
    readonly segments: readonly {
      readonly segment: number;
      readonly lagEvents: number;
      readonly lagSeconds: number;
      readonly stopped: boolean;
    }[];
    readonly deadLetters: number;
    /** Streams parked under the `park` policy, and the events waiting in them. */
    readonly parkedStreams?: number;
    readonly parkedEvents?: number;
  }[];
  /** Age of the oldest open transaction holding readers back; 0 when none. */
  readonly heldBackSeconds: number;
  readonly heldBackEvents: number;
  readonly schedulesDue?: number;
  readonly schedulesDead?: number;
  /** Consumer versions being rebuilt beside the live one (blue-green). */
  readonly rebuilds?: readonly {
    readonly consumer: string;
    readonly version: number;
    readonly eventsDone: number;
    readonly eventsTotal: number;
    readonly eventsPerSecond: number;
  }[];
}

/** Reads a snapshot for the gauges; registered by the parts that own the data. */
export type ScrapeSource = () => Promise<Partial<ScrapeSnapshot>>;

const SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  10,
];
const COUNTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];
const HANDLED = 'chronicle_messages_handled_total';
const LATENESS = [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
// Two scrapes a second from the same Prometheus share one read.
const SNAPSHOT_TTL_MS = 1000;

/** The series one handler's handlings of one type record into, found once. */
interface HandlingSeries {
  readonly duration: HistogramSeries;
  /** By outcome, each made when first counted (a series shows once counted). */
  readonly counted: Partial<Record<Outcome, CounterSeries>>;
}

/** How a request ended, as `chronicle_request_duration_seconds` labels it. */
export type RequestOutcome = 'ok' | 'error';

/**
 * Chronicle's Prometheus instruments (names in docs/guides/observability.md:
 * `chronicle_` prefix, base units, no ids in labels), one set per registry
 * (`forRegistry`).
 */
export class ChronicleMetrics {
  readonly messagesHandled: Counter<'kind' | 'type' | 'handler' | 'outcome'>;
  readonly handlingDuration: Histogram<'kind' | 'type' | 'handler'>;
  readonly requestDuration: Histogram<'kind' | 'type' | 'outcome'>;
  readonly transportErrors: Counter<'kind' | 'type' | 'error'>;
  readonly appends: Counter<'outcome'>;
  readonly appendDuration: Histogram;
  readonly appendEventsPerStatement: Histogram;
  readonly appendUnitsPerStatement: Histogram;
  readonly aggregateLoads: Counter<'aggregate' | 'source'>;
  readonly aggregateLoadEvents: Histogram<'aggregate'>;
  readonly aggregateLoadDuration: Histogram<'aggregate'>;
  readonly consumerBatchDuration: Histogram<'consumer'>;
  readonly scheduleLateness: Histogram<'type'>;
  readonly scheduleFailures: Counter<'type'>;
  readonly messageLogWritten: Counter<'kind'>;
  readonly messageLogDropped: Counter<'kind' | 'reason'>;

  // The same instruments as the fields above, with their series API.
  private readonly handledCounter: SeriesCounter<
    'kind' | 'type' | 'handler' | 'outcome'
  >;
  private readonly handlingHistogram: SeriesHistogram<
    'kind' | 'type' | 'handler'
  >;
  private readonly requestHistogram: SeriesHistogram<
    'kind' | 'type' | 'outcome'
  >;
  /** aggregate, then where its state started. */
  private readonly loads = new Map<
    string,
    Map<
      string,
      {
        count: CounterSeries;
        events: HistogramSeries;
        duration: HistogramSeries;
      }
    >
  >();
  private readonly appendOutcomes = new Map<string, CounterSeries>();
  /** kind, then type, then handler: lookups of strings already hashed, no key built. */
  private readonly handlings = new Map<
    HandledKind,
    Map<string, Map<string, HandlingSeries>>
  >();
  /** kind, then type, then outcome. */
  private readonly requests = new Map<
    string,
    Map<string, Map<RequestOutcome, HistogramSeries>>
  >();

  private readonly sources = new Set<ScrapeSource>();
  private snapshot?: { at: number; value: Promise<ScrapeSnapshot> };

  private static readonly byRegistry = new WeakMap<
    Registry,
    ChronicleMetrics
  >();

  /**
   * The one set of instruments of a registry. Apps that share a process and a
   * registry (tests, a monolith) share them, and each adds its scrape source.
   * A registry cleared since (`registry.clear()`) gets them again.
   */
  static forRegistry(registry: Registry = defaultRegistry): ChronicleMetrics {
    const known = ChronicleMetrics.byRegistry.get(registry);
    if (known && registry.getSingleMetric(HANDLED) === known.messagesHandled) {
      return known;
    }
    const made = new ChronicleMetrics(registry);
    ChronicleMetrics.byRegistry.set(registry, made);
    return made;
  }

  private constructor(readonly registry: Registry) {
    const r = registry;
    this.messagesHandled = this.handledCounter = seriesCounter(
      r,
      HANDLED,
      'Messages handled by this process, by kind (command, query, event, schedule), type, handler and outcome (ok, rejected, failed).',
      ['kind', 'type', 'handler', 'outcome'],
    );
    this.handlingDuration = this.handlingHistogram = seriesHistogram(
      r,
      'chronicle_message_handling_duration_seconds',
      'Time a handler took, including its unit of work and retries after conflicts.',
      ['kind', 'type', 'handler'],
      SECONDS,
    );
    this.requestDuration = this.requestHistogram = seriesHistogram(
      r,
      'chronicle_request_duration_seconds',
      'Round trip of a command or query sent to another app over the transport, as the sender sees it.',
      ['kind', 'type', 'outcome'],
      SECONDS,
    );
    this.transportErrors = counter(
      r,
      'chronicle_transport_errors_total',
      'Requests that failed in transport: timeout, no_handler, busy, in_doubt, not_sent, not_permitted, too_large.',
      ['kind', 'type', 'error'],
    );
    this.appends = seriesCounter(
      r,
      'chronicle_appends_total',
      'Units of work appended (a command or a consumer write), by outcome: ok, conflict, duplicate, failed.',
      ['outcome'],
    );
    this.appendDuration = seriesHistogram(
      r,
      'chronicle_append_duration_seconds',
      'Time of one append statement (one round trip, several units under group commit).',
      [],
      SECONDS,
    );
    this.appendEventsPerStatement = seriesHistogram(
      r,
      'chronicle_append_events_per_statement',
      'Events written by one append statement.',
      [],
      COUNTS,
    );
    this.appendUnitsPerStatement = seriesHistogram(
      r,
      'chronicle_append_units_per_statement',
      'Units of work sharing one append statement (group commit).',
      [],
      COUNTS,
    );
    this.aggregateLoads = seriesCounter(
      r,
      'chronicle_aggregate_loads_total',
      'Aggregate loads, by where the state started: cache, snapshot, or events only.',
      ['aggregate', 'source'],
    );
    this.aggregateLoadEvents = seriesHistogram(
      r,
      'chronicle_aggregate_load_events',
      'Events read and applied by one aggregate load.',
      ['aggregate'],
      [0, ...COUNTS],
    );
    this.aggregateLoadDuration = seriesHistogram(
      r,
      'chronicle_aggregate_load_duration_seconds',
      'Time to load an aggregate.',
      ['aggregate'],
      SECONDS,
    );
    this.consumerBatchDuration = histogram(
      r,
      'chronicle_consumer_batch_duration_seconds',
      'Time a consumer segment took for one batch, from read to committed checkpoint.',
      ['consumer'],
      SECONDS,
    );
    this.scheduleLateness = histogram(
      r,
      'chronicle_schedule_lateness_seconds',
      'How long after its due time a schedule delivery started.',
      ['type'],
      LATENESS,
    );
    this.scheduleFailures = counter(
      r,
      'chronicle_schedule_failures_total',
      'Schedule deliveries that failed (each attempt).',
      ['type'],
    );
    this.messageLogWritten = counter(
      r,
      'chronicle_message_log_written_total',
      'Message log rows written behind (failures, queries, commands without events), by kind.',
      ['kind'],
    );
    this.messageLogDropped = counter(
      r,
      'chronicle_message_log_dropped_total',
      'Message log rows lost: overflow (the write-behind buffer was full) or failed (the database refused the batch).',
      ['kind', 'reason'],
    );
    this.scrapeGauges(r);
  }

  /** A part that owns scrape-time data (consumers, schedules) adds its reader; the returned function removes it. */
  addScrapeSource(source: ScrapeSource): () => void {
    this.sources.add(source);
    this.snapshot = undefined;
    return () => {
      this.sources.delete(source);
      this.snapshot = undefined;
    };
  }

  /** One handler run, counted and timed. */
  handled(
    kind: HandledKind,
    type: string,
    handler: string,
    seconds: number,
    outcome: Outcome,
  ): void {
    const series = this.handlingSeries(kind, type, handler);
    series.duration.observe(seconds);
    (series.counted[outcome] ??= this.handledCounter.series({
      kind,
      type,
      handler,
      outcome,
    })).inc();
  }

  /** One request sent over the transport, timed from before its envelope was made. */
  requested(
    kind: 'command' | 'query',
    type: string,
    seconds: number,
    outcome: RequestOutcome,
  ): void {
    let byType = this.requests.get(kind);
    if (byType === undefined) this.requests.set(kind, (byType = new Map()));
    let byOutcome = byType.get(type);
    if (byOutcome === undefined) byType.set(type, (byOutcome = new Map()));
    let series = byOutcome.get(outcome);
    if (series === undefined) {
      series = this.requestHistogram.series({ kind, type, outcome });
      byOutcome.set(outcome, series);
    }
    series.observe(seconds);
  }

  /** One aggregate load: counted by where its state started, with its events read and its time. */
  loaded(
    aggregate: string,
    source: string,
    events: number,
    seconds: number,
  ): void {
    let bySource = this.loads.get(aggregate);
    if (bySource === undefined)
      this.loads.set(aggregate, (bySource = new Map()));
    let series = bySource.get(source);
    if (series === undefined) {
      series = {
        count: (
          this.aggregateLoads as SeriesCounter<'aggregate' | 'source'>
        ).series({ aggregate, source }),
        events: (
          this.aggregateLoadEvents as SeriesHistogram<'aggregate'>
        ).series({ aggregate }),
        duration: (
          this.aggregateLoadDuration as SeriesHistogram<'aggregate'>
        ).series({ aggregate }),
      };
      bySource.set(source, series);
    }
    series.count.inc();
    series.events.observe(events);
    series.duration.observe(seconds);
  }

  /** One unit of work appended (or not), by outcome. */
  appended(outcome: 'ok' | 'conflict' | 'duplicate' | 'failed'): void {
    let series = this.appendOutcomes.get(outcome);
    if (series === undefined) {
      series = (this.appends as SeriesCounter<'outcome'>).series({ outcome });
      this.appendOutcomes.set(outcome, series);
    }
    series.inc();
  }

  private handlingSeries(
    kind: HandledKind,
    type: string,
    handler: string,
  ): HandlingSeries {
    let byType = this.handlings.get(kind);
    if (byType === undefined) this.handlings.set(kind, (byType = new Map()));
    let byHandler = byType.get(type);
    if (byHandler === undefined) byType.set(type, (byHandler = new Map()));
    let series = byHandler.get(handler);
    if (series === undefined) {
      series = {
        duration: this.handlingHistogram.series({ kind, type, handler }),
        counted: {},
      };
      byHandler.set(handler, series);
    }
    return series;
  }

  private read(): Promise<ScrapeSnapshot> {
    const now = Date.now();
    if (this.snapshot && now - this.snapshot.at < SNAPSHOT_TTL_MS) {
      return this.snapshot.value;
    }
    const value = Promise.all([...this.sources].map((source) => source())).then(
      mergeSnapshots,
    );
    this.snapshot = { at: now, value };
    return value;
  }

  private scrapeGauges(r: Registry): void {
    // Each gauge asks the shared snapshot; the first of a scrape reads it.
    const read = (): Promise<ScrapeSnapshot> => this.read();
    gauge(
      r,
      'chronicle_consumer_lag_events',
      'Events of a consumer segment committed past its checkpoint.',
      ['consumer', 'segment'],
      perSegment(read, (s) => s.lagEvents),
    );
    gauge(
      r,
      'chronicle_consumer_lag_seconds',
      'Age of the oldest event a consumer segment has not handled yet (0 when none waits).',
      ['consumer', 'segment'],
      perSegment(read, (s) => s.lagSeconds),
    );
    gauge(
      r,
      'chronicle_consumer_segments_stopped',
      'Segments of a consumer stopped on an event that failed every retry.',
      ['consumer'],
      async function () {
        this.reset();
        for (const c of (await read()).consumers)
          this.set(
            { consumer: c.consumer },
            c.segments.filter((s) => s.stopped).length,
          );
      },
    );
    gauge(
      r,
      'chronicle_consumer_dead_letters',
      'Events a consumer skipped after their retries (rows in dead_letters).',
      ['consumer'],
      async function () {
        this.reset();
        for (const c of (await read()).consumers)
          this.set({ consumer: c.consumer }, c.deadLetters);
      },
    );
    const rebuildGauge = (
      name: string,
      help: string,
      value: (
        rebuild: NonNullable<ScrapeSnapshot['rebuilds']>[number],
      ) => number,
    ) =>
      gauge(r, name, help, ['consumer', 'version'], async function () {
        this.reset();
        for (const b of (await read()).rebuilds ?? [])
          this.set(
            { consumer: b.consumer, version: String(b.version) },
            value(b),
          );
      });
    rebuildGauge(
      'chronicle_consumer_rebuild_events_done',
      'Events a consumer version being rebuilt beside the live one has handled.',
      (b) => b.eventsDone,
    );
    rebuildGauge(
      'chronicle_consumer_rebuild_events_total',
      'Events of its types in the log that a consumer version being rebuilt has to handle.',
      (b) => b.eventsTotal,
    );
    rebuildGauge(
      'chronicle_consumer_rebuild_events_per_second',
      'The rate of a rebuild since it began, in events per second.',
      (b) => b.eventsPerSecond,
    );
    gauge(
      r,
      'chronicle_consumer_parked_streams',
      'Streams a consumer holds parked (onError park): an event failed every retry, later ones wait behind it.',
      ['consumer'],
      async function () {
        this.reset();
        for (const c of (await read()).consumers)
          this.set({ consumer: c.consumer }, c.parkedStreams ?? 0);
      },
    );
    gauge(
      r,
      'chronicle_consumer_parked_events',
      'Events waiting in the parked streams of a consumer, the failing ones included.',
      ['consumer'],
      async function () {
        this.reset();
        for (const c of (await read()).consumers)
          this.set({ consumer: c.consumer }, c.parkedEvents ?? 0);
      },
    );
    gauge(
      r,
      'chronicle_log_held_back_seconds',
      'Age of the oldest open transaction that holds every reader of the log back (0 when none).',
      [],
      async function () {
        this.set((await read()).heldBackSeconds);
      },
    );
    gauge(
      r,
      'chronicle_log_held_back_events',
      'Committed events readers cannot pass yet, behind an open transaction.',
      [],
      async function () {
        this.set((await read()).heldBackEvents);
      },
    );
    gauge(
      r,
      'chronicle_schedules_due',
      'Schedules due now and not delivered yet.',
      [],
      async function () {
        this.set((await read()).schedulesDue ?? 0);
      },
    );
    gauge(
      r,
      'chronicle_schedules_dead',
      'Schedules kept as dead after their last attempt failed.',
      [],
      async function () {
        this.set((await read()).schedulesDead ?? 0);
      },
    );
  }
}

type SegmentGauges = ScrapeSnapshot['consumers'][number]['segments'][number];

/** A gauge's collect that sets one value per consumer and segment. */
function perSegment(
  read: () => Promise<ScrapeSnapshot>,
  value: (segment: SegmentGauges) => number,
): (this: Gauge<'consumer' | 'segment'>) => Promise<void> {
  return async function () {
    this.reset();
    for (const c of (await read()).consumers)
      for (const s of c.segments)
        this.set(
          { consumer: c.consumer, segment: String(s.segment) },
          value(s),
        );
  };
}

function mergeSnapshots(parts: Partial<ScrapeSnapshot>[]): ScrapeSnapshot {
  let heldBackSeconds = 0;
  let heldBackEvents = 0;
  let schedulesDue: number | undefined;
  let schedulesDead: number | undefined;
  const consumers: ScrapeSnapshot['consumers'][number][] = [];
  const rebuilds: NonNullable<ScrapeSnapshot['rebuilds']>[number][] = [];
  for (const part of parts) {
    consumers.push(...(part.consumers ?? []));
    rebuilds.push(...(part.rebuilds ?? []));
    heldBackSeconds = Math.max(heldBackSeconds, part.heldBackSeconds ?? 0);
    heldBackEvents = Math.max(heldBackEvents, part.heldBackEvents ?? 0);
    if (part.schedulesDue !== undefined)
      schedulesDue = Math.max(schedulesDue ?? 0, part.schedulesDue);
    if (part.schedulesDead !== undefined)
      schedulesDead = Math.max(schedulesDead ?? 0, part.schedulesDead);
  }
  return {
    consumers,
    heldBackSeconds,
    heldBackEvents,
    schedulesDue,
    schedulesDead,
    rebuilds,
  };
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  registry.removeSingleMetric(name);
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function seriesCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): SeriesCounter<L> {
  registry.removeSingleMetric(name);
  return new SeriesCounter({ name, help, labelNames, registers: [registry] });
}

function seriesHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): SeriesHistogram<L> {
  registry.removeSingleMetric(name);
  return new SeriesHistogram({
    name,
    help,
    labelNames,
    buckets,
    registers: [registry],
  });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  registry.removeSingleMetric(name);
  return new Histogram({
    name,
    help,
    labelNames,
    buckets,
    registers: [registry],
  });
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  collect: (this: Gauge<L>) => Promise<void>,
): void {
  registry.removeSingleMetric(name);
  new Gauge({ name, help, labelNames, collect, registers: [registry] });
}
