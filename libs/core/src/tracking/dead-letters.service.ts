import { Injectable, Logger } from '@nestjs/common';
import {
  EventStore,
  PostgresEventStore,
  StoreConfigurationError,
} from '../store/index.js';
import {
  describeDrop,
  dropParked,
  listDeadLetters,
  retryParked,
  type DeadLetterList,
  type DeadLetterQuery,
  type DropOptions,
  type DropOutcome,
  type RetryOptions,
  type RetryOutcome,
} from './dead-letter-operations.js';
import { TrackingService } from './tracking.service.js';

/**
 * A consumer's dead letters: the streams parked under `onError: 'park'` and
 * the events skipped under `'skip'`. Retries run on the instance that owns
 * the stream's segment (this one or another process), in stream order, each
 * event in one transaction with its unparking; this service asks and waits.
 */
@Injectable()
export class DeadLetters {
  private readonly logger = new Logger('ChronicleTracking');

  constructor(
    private readonly store: EventStore,
    private readonly tracking: TrackingService,
  ) {}

  /** The parked sequences and skipped events of `consumer` (or of one stream). */
  list(consumer: string, query: DeadLetterQuery = {}): Promise<DeadLetterList> {
    return listDeadLetters(this.postgres(), consumer, query);
  }

  /**
   * Retries the parked streams of `consumer` (or one): each stream's events
   * in order, up to the first that fails again (it and the rest stay parked,
   * with the new error and attempts). Waits up to `timeoutMs` for the owners.
   */
  retry(consumer: string, options: RetryOptions = {}): Promise<RetryOutcome[]> {
    return retryParked(this.postgres(), consumer, options, () =>
      this.tracking.wakeForRetry(consumer),
    );
  }

  /** Deletes the parked streams of `consumer` (or one) with their events, logging who and when. */
  async drop(
    consumer: string,
    options: DropOptions = {},
  ): Promise<DropOutcome[]> {
    const dropped = await dropParked(this.postgres(), consumer, options);
    // The segments here forget the dropped streams now, not at their next look.
    this.tracking.wakeForRetry(consumer);
    if (dropped.length > 0)
      this.logger.warn(
        describeDrop(consumer, dropped, options.by ?? this.tracking.instanceId),
      );
    return dropped;
  }

  private postgres(): PostgresEventStore {
    if (this.store instanceof PostgresEventStore) return this.store;
    throw new StoreConfigurationError(
      'Dead letters live in the PostgreSQL event store (PostgreSQL or PGlite); this EventStore is another kind.',
    );
  }
}
