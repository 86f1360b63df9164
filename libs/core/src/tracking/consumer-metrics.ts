import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  EventStore,
  PostgresEventStore,
  segmentReads,
  SQL_CLIENT,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import { Telemetry, type ScrapeSnapshot } from '../telemetry/index.js';
import { logHold } from './log-hold.js';
import { countParked } from './parked-streams.js';
import { TrackingService } from './tracking.service.js';

/** What a consumer reads, to measure its lag. */
export interface ConsumerReads {
  readonly consumer: string;
  readonly types: readonly string[];
}

type ConsumerGauges = ScrapeSnapshot['consumers'][number];

/*
 * The consumers' scrape-time gauges, read in a few statements whatever the
 * number of consumers, segments or events: one for the lag of every segment
 * (counted like the health check, up to 1,000,000 per segment), one for the
 * dead letters, one for the parked streams, and the held-back log (one or two).
 */

const lagSql = (s: StoreSchema) => `
  WITH c AS (
    SELECT x.consumer, x.types
    FROM jsonb_to_recordset($1::text::jsonb) AS x(consumer text, types jsonb))
  SELECT p.consumer, p.segment, p.stopped, l.events,
         (extract(epoch FROM clock_timestamp() - l.oldest) * 1000)::float8 AS age_ms
  FROM c JOIN ${s.table('consumer_positions')} p ON p.consumer = c.consumer
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS events, min(w.created_at) AS oldest FROM (
      SELECT e.created_at FROM ${s.events} e
      WHERE (e.transaction_id, e.position) > (p.transaction_id, p.position)
        AND e.type IN (SELECT jsonb_array_elements_text(c.types))
        AND ${segmentReads('e.stream_id', 'p')}
      LIMIT 1000000) w) l
  ORDER BY p.consumer, p.segment`;

const deadLettersSql = (s: StoreSchema) => `
  SELECT consumer, count(*)::int AS letters FROM ${s.table('dead_letters')}
  WHERE consumer IN (SELECT jsonb_array_elements_text($1::text::jsonb))
  GROUP BY consumer`;

/** Lag, stopped segments, dead letters and parked streams of these consumers, and the held-back log. */
export async function readConsumerGauges(
  client: SqlClient,
  schema: StoreSchema,
  consumers: readonly ConsumerReads[],
): Promise<Partial<ScrapeSnapshot>> {
  const hold = await logHold(client, schema);
  const held = {
    heldBackSeconds: hold
      ? Math.max(0, (Date.now() - hold.since.getTime()) / 1000)
      : 0,
    heldBackEvents: hold?.eventsWaiting ?? 0,
  };
  if (consumers.length === 0) return { consumers: [], ...held };
  const lags = await client.query<{
    consumer: string;
    segment: number;
    stopped: boolean;
    events: number;
    age_ms: number | null;
  }>(schema.sql(lagSql), [
    JSON.stringify(
      consumers.map(({ consumer, types }) => ({ consumer, types })),
    ),
  ]);
  const letters = await client.query<{ consumer: string; letters: number }>(
    schema.sql(deadLettersSql),
    [JSON.stringify(consumers.map((c) => c.consumer))],
  );
  const parked = await countParked(
    client,
    schema,
    consumers.map((c) => c.consumer),
  );
  const segments = new Map<string, ConsumerGauges['segments'][number][]>();
  for (const row of lags) {
    const events = Number(row.events);
    const list = segments.get(row.consumer) ?? [];
    segments.set(row.consumer, list);
    list.push({
      segment: Number(row.segment),
      lagEvents: events,
      lagSeconds:
        events > 0 && row.age_ms !== null
          ? Math.max(0, Number(row.age_ms) / 1000)
          : 0,
      stopped: row.stopped,
    });
  }
  const deadLetters = new Map(
    letters.map((row) => [row.consumer, Number(row.letters)]),
  );
  const gauges: ConsumerGauges[] = consumers.map(({ consumer }) => ({
    consumer,
    segments: segments.get(consumer) ?? [],
    deadLetters: deadLetters.get(consumer) ?? 0,
    parkedStreams: parked.get(consumer)?.streams ?? 0,
    parkedEvents: parked.get(consumer)?.events ?? 0,
  }));
  return { consumers: gauges, ...held };
}

/**
 * Adds the consumers' gauges to the scrape when metrics are on, and takes
 * them away when the module is destroyed.
 */
@Injectable()
export class ConsumerMetrics implements OnModuleInit, OnModuleDestroy {
  private remove?: () => void;

  constructor(
    private readonly tracking: TrackingService,
    private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly client: SqlClient,
    @Optional() private readonly telemetry?: Telemetry,
  ) {}

  onModuleInit(): void {
    const metrics = this.telemetry?.metrics;
    const store = this.store;
    if (!metrics || !(store instanceof PostgresEventStore)) return;
    const logger = new Logger('ChronicleTracking');
    // The database away must not fail the whole scrape (the counters still
    // tell): these gauges are left out of it instead.
    this.remove = metrics.addScrapeSource(async () => {
      try {
        const gauges = await readConsumerGauges(
          this.client,
          store.schema,
          this.tracking.reads(),
        );
        return { ...gauges, rebuilds: await this.tracking.rebuilds() };
      } catch (error) {
        logger.warn(`Cannot read the consumers' gauges: ${String(error)}`);
        return {};
      }
    });
  }

  onModuleDestroy(): void {
    this.remove?.();
    this.remove = undefined;
  }
}
