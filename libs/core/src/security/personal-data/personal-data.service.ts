import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { AggregateCache } from '../../aggregates/index.js';
import { EventStore, type PostgresEventStore } from '../../store/index.js';
import {
  forgetChannel,
  forgetSubject,
  type ForgetReport,
} from './forget-subject.js';
import {
  checkPersonalDataDefinitions,
  PersonalDataCipher,
} from './personal-data-cipher.js';

/** Hears of each subject this process forgets (documents and other copies follow it). */
export type ForgetListener = (
  subjectId: string,
  report: ForgetReport,
) => Promise<void> | void;

/**
 * Forgets data subjects: deletes the subject's key, so every sealed copy of
 * its personal fields (events, copies of events) reads as the placeholder.
 * Snapshots of the streams that held them (which keep decrypted state) are
 * deleted. The forget is recorded (`forgotten_subjects`) for copies kept by
 * apps not running now (documents). Every process of every app on the store
 * hears of it (LISTEN) and drops the key and its cached aggregates.
 */
@Injectable()
export class PersonalDataService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Chronicle');
  private readonly listeners = new Set<ForgetListener>();
  private stopListening: (() => Promise<void>) | undefined;
  private readonly store: PostgresEventStore;

  constructor(
    readonly cipher: PersonalDataCipher,
    @Inject(EventStore) store: EventStore,
    @Optional() private readonly cache?: AggregateCache,
  ) {
    this.store = store as PostgresEventStore;
  }

  async onModuleInit(): Promise<void> {
    checkPersonalDataDefinitions();
    // An EventStore of the app's own (not PostgreSQL) has nothing to listen on.
    const client = this.store.client as
      PostgresEventStore['client'] | undefined;
    if (!client?.listen) return;
    try {
      this.stopListening = await client.listen(
        forgetChannel(this.store.schema),
        (subjectId) => this.evict(subjectId),
      );
    } catch (error) {
      this.logger.warn(
        `Not listening for forgotten subjects (${(error as Error).message}): ` +
          'this process keeps their keys and aggregates cached until it restarts',
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.stopListening?.();
  }

  /** Calls `listener` after each subject this process forgets. Returns a function that stops it. */
  onForget(listener: ForgetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Forgets a subject for good: its key is deleted, its sealed fields read as
   * their placeholders from then on, everywhere. Idempotent.
   */
  async forgetSubject(subjectId: string): Promise<ForgetReport> {
    const report = await forgetSubject(
      this.store.client,
      this.store.schema,
      subjectId,
      this.cipher.keys,
    );
    this.evict(subjectId);
    for (const listener of this.listeners) await listener(subjectId, report);
    return report;
  }

  private evict(subjectId: string): void {
    this.cipher.evict(subjectId);
    // Which cached aggregates hold the subject's data is not known here, and
    // forgetting is rare: the whole cache goes.
    this.cache?.clear();
  }
}
