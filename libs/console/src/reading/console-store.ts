import { Injectable } from '@nestjs/common';
import {
  consumersOverview,
  EventStore,
  rebuildsOverview,
  PostgresEventStore,
  StoreConfigurationError,
  type ConsumerOverview,
  type RebuildOverview,
  type StoredEvent,
} from '@chronicle/core';
import { listSchedules, type ScheduleRow } from './schedule-list.js';

/** How many events of one stream the timeline shows at most. */
export const TIMELINE_LIMIT = 500;

/**
 * What the console reads from the store directly: the same statements the
 * CLI runs (`consumersOverview`), a stream's events, and the schedules.
 */
@Injectable()
export class ConsoleStore {
  constructor(private readonly store: EventStore) {}

  /** Every consumer with its segments, and the blue-green rebuilds under way. */
  async consumers(): Promise<{
    consumers: ConsumerOverview[];
    rebuilds: RebuildOverview[];
  }> {
    const store = this.postgres();
    const consumers = await consumersOverview(store.client, store.schema);
    const rebuilds = await rebuildsOverview(
      store.client,
      store.schema,
      consumers,
    );
    return { consumers, rebuilds };
  }

  schedules(): Promise<ScheduleRow[]> {
    const store = this.postgres();
    return listSchedules(store.client, store.schema);
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.store.streamVersion(streamId);
  }

  /** The stream's first events, up to `TIMELINE_LIMIT`. */
  async stream(streamId: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const event of this.store.readStream(streamId, {
      toVersion: TIMELINE_LIMIT,
    })) {
      events.push(event);
    }
    return events;
  }

  private postgres(): PostgresEventStore {
    if (this.store instanceof PostgresEventStore) return this.store;
    throw new StoreConfigurationError(
      'The console reads the PostgreSQL event store (PostgreSQL or PGlite); this EventStore is another kind.',
    );
  }
}
