import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { AggregateCache } from '../../aggregates/index.js';
import { checkId } from '../../messages/index.js';
import {
  EventStore,
  PostgresEventStore,
  type SqlClient,
  type StoreSchema,
} from '../../store/index.js';
import {
  checkPersonalDataDefinitions,
  PersonalDataCipher,
} from './personal-data-cipher.js';

/** What forgetting a subject did. */
export interface ForgetReport {
  /** Whether the subject had a key (and so data) to forget. */
  readonly forgotten: boolean;
  /** The streams that held the subject's sealed fields; their snapshots were deleted. */
  readonly streams: readonly string[];
}

/** Hears of each forgotten subject (documents and other copies follow it). */
export type ForgetListener = (
  subjectId: string,
  report: ForgetReport,
) => Promise<void> | void;

// Streams holding a key id's ciphertexts: a scan of the log, paid only on forget.
const streamsSql = (s: StoreSchema) => `
  SELECT DISTINCT stream_id FROM ${s.events}
  WHERE payload::text LIKE '%' || $1::text || '%'`;

const dropSnapshotsSql = (s: StoreSchema) => `
  DELETE FROM ${s.table('snapshots')} WHERE stream_id = ANY ($1::text[])`;

/**
 * Forgets data subjects: deletes the subject's key, so every sealed copy of
 * its personal fields (events, copies of events) reads as the placeholder.
 * Snapshots of the streams that held them (which keep decrypted state) are
 * deleted, and those aggregates dropped from this process's cache.
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

  private get client(): SqlClient {
    return this.store.client;
  }

  private get channel(): string {
    return `chronicle_forget_${this.store.schema.name}`;
  }

  async onModuleInit(): Promise<void> {
    checkPersonalDataDefinitions();
    // Other processes' caches drop a forgotten key as soon as they hear of it.
    if (this.client.listen) {
      try {
        this.stopListening = await this.client.listen(
          this.channel,
          (subjectId) => this.cipher.evict(subjectId),
        );
      } catch (error) {
        this.logger.warn(
          `Not listening for forgotten subjects (${(error as Error).message}): other processes keep cached keys until they restart`,
        );
      }
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
    checkId(subjectId, 'subject id');
    const keyId = await this.cipher.keys.forget(subjectId);
    this.cipher.evict(subjectId, keyId);
    let streams: string[] = [];
    if (keyId !== undefined) {
      const rows = await this.client.query<{ stream_id: string }>(
        this.store.schema.sql(streamsSql),
        [`v1.${keyId}.`],
      );
      streams = rows.map((r) => r.stream_id);
      if (streams.length > 0) {
        await this.client.query(this.store.schema.sql(dropSnapshotsSql), [
          `{${streams.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,
        ]);
      }
      for (const stream of streams) this.cache?.delete(stream);
      await this.client.query(`SELECT pg_notify($1::text, $2::text)`, [
        this.channel,
        subjectId,
      ]);
    }
    const report: ForgetReport = { forgotten: keyId !== undefined, streams };
    for (const listener of this.listeners) await listener(subjectId, report);
    return report;
  }
}
