import { randomUUID } from 'node:crypto';
import { MessageTypeRegistry } from '../../messages/index.js';
import type {
  NewEvent,
  PayloadCipher,
  SealedAppends,
  SealedPayload,
  SqlClient,
  StreamAppend,
} from '../../store/index.js';
import { BoundedCache } from './bounded-cache.js';
import type { KeyStore, StoredDataKey } from './key-store.js';
import { MasterKey } from './master-key.js';
import {
  personalDataOf,
  type PersonalDataDefinition,
} from './personal-data.decorators.js';
import {
  MissingDataSubjectError,
  PersonalDataDefinitionError,
  PersonalDataUnreadableError,
} from './personal-data.errors.js';
import {
  isSealed,
  keyIdOf,
  open,
  seal,
  sealingKey,
  type SealingKey,
} from './sealed-value.js';

/** A data key ready to use. */
type DataKey = SealingKey;

/** A key id's key, gone (forgotten), or why it cannot be used. */
type KeyState = DataKey | null | { readonly broken: string };

/** An append waiting for its subject's key. */
interface Waiter {
  resolve(key: DataKey): void;
  reject(error: unknown): void;
}

export interface PersonalDataCipherOptions {
  /** Data keys kept in memory, per subject and per key id. Default 10 000. */
  readonly cacheSize?: number;
}

/**
 * The definition of a registered type, or undefined when it declares no
 * personal data. Throws when it declares some without a subject.
 */
export function personalDataOfType(
  type: string,
): PersonalDataDefinition | undefined {
  const info = MessageTypeRegistry.forName(type);
  if (!info) return undefined;
  const definition = personalDataOf(
    (info.target as unknown as { prototype: object }).prototype,
  );
  if (definition.fields.size === 0) return undefined;
  if (definition.subject === undefined) {
    throw new PersonalDataDefinitionError(info.target.name, [
      ...definition.fields.keys(),
    ]);
  }
  return definition;
}

/** Every registered event type that declares personal data without a subject, as an error. */
export function checkPersonalDataDefinitions(): void {
  for (const info of MessageTypeRegistry.all()) {
    if (info.kind === 'event') personalDataOfType(info.name);
  }
}

/** A subject id as stored: a non-empty string, or a number's text. */
function subjectIdOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Seals the `@PersonalData` fields of events on append with their subject's
 * key, and opens them on read (the store's `PayloadCipher`). Keys are cached
 * in memory, bounded: an append whose subjects' keys are cached costs no
 * round trip; a read batch fetches the keys it misses in one statement.
 */
export class PersonalDataCipher implements PayloadCipher {
  private readonly bySubject: BoundedCache<string, DataKey>;
  private readonly byId: BoundedCache<string, KeyState>;
  /** Subjects whose key is being looked up or queued for the next lookup. */
  private readonly awaited = new Map<string, Promise<DataKey>>();
  private queued = new Map<string, Waiter>();
  private lookingUp = false;
  /**
   * Counts evictions: a lookup that overlapped one does not cache what it
   * read, which may be the key just forgotten.
   */
  private evictions = 0;

  constructor(
    readonly keys: KeyStore,
    private readonly master: MasterKey,
    options: PersonalDataCipherOptions = {},
  ) {
    const size = options.cacheSize ?? 10_000;
    this.bySubject = new BoundedCache(size);
    this.byId = new BoundedCache(size);
  }

  /** Drops a forgotten subject's key from memory. */
  evict(subjectId: string): void {
    this.evictions++;
    const cached = this.bySubject.get(subjectId);
    this.bySubject.delete(subjectId);
    // A key cached by id alone (its subject's entry aged out) cannot be told
    // apart: drop them all, forgetting is rare.
    if (cached) this.byId.set(cached.keyId, null);
    else this.byId.clear();
  }

  seal(
    appends: readonly StreamAppend[],
    client: SqlClient,
  ): SealedAppends | Promise<SealedAppends> {
    // What to seal, and which subjects' keys that takes.
    const needed = new Set<string>();
    const fetched = new Map<string, DataKey>();
    let any = false;
    for (const append of appends) {
      for (const event of append.events) {
        const subject = this.subjectToSeal(event, append.streamId);
        if (subject === undefined) continue;
        any = true;
        const cached = this.bySubject.get(subject);
        if (cached) fetched.set(subject, cached);
        else needed.add(subject);
      }
    }
    if (!any) return { appends, wroteInTransaction: false };
    // Every key cached: no round trip, not even a promise.
    if (needed.size === 0) return this.sealAll(appends, fetched, false);
    return this.fetchOrCreate([...needed], client, fetched).then((wrote) =>
      this.sealAll(appends, fetched, wrote),
    );
  }

  private sealAll(
    appends: readonly StreamAppend[],
    keys: ReadonlyMap<string, DataKey>,
    wroteInTransaction: boolean,
  ): SealedAppends {
    const keyOf = (subject: string) => keys.get(subject) as DataKey;
    return {
      wroteInTransaction,
      appends: appends.map((append) => ({
        ...append,
        events: append.events.map((event) => this.sealEvent(event, keyOf)),
      })),
    };
  }

  /** The subject whose key `event` needs, or undefined when nothing of it is to seal. */
  private subjectToSeal(event: NewEvent, streamId: string): string | undefined {
    const definition = personalDataOfType(event.type);
    if (!definition) return undefined;
    const payload = event.payload;
    let holds = false;
    for (const field of definition.fields.keys()) {
      const value = payload[field];
      if (value !== undefined && value !== null && !isSealed(value))
        holds = true;
    }
    if (!holds) return undefined;
    const subjectField = definition.subject as string;
    const subject = subjectIdOf(payload[subjectField]);
    if (subject === undefined) {
      throw new MissingDataSubjectError(event.type, subjectField, streamId);
    }
    return subject;
  }

  private sealEvent(
    event: NewEvent,
    keyOf: (subject: string) => DataKey,
  ): NewEvent {
    const definition = personalDataOfType(event.type);
    if (!definition) return event;
    let payload: Record<string, unknown> | undefined;
    for (const field of definition.fields.keys()) {
      const value = event.payload[field];
      if (value === undefined || value === null || isSealed(value)) continue;
      const key = keyOf(
        subjectIdOf(event.payload[definition.subject as string]) as string,
      );
      payload ??= { ...event.payload };
      payload[field] = seal(value, key);
    }
    return payload ? { ...event, payload } : event;
  }

  /**
   * Fills `into` with the subjects' keys, creating the missing ones. Returns
   * whether a key was written inside `client`'s transaction.
   */
  private async fetchOrCreate(
    subjects: string[],
    client: SqlClient,
    into: Map<string, DataKey>,
  ): Promise<boolean> {
    // On PGlite a statement from inside a transaction joins it (one session);
    // on a server the key store's own pool writes and commits at once.
    const joined =
      client.driver === 'pglite' &&
      (client.inTransaction || client.joinsOpenTransaction === true);
    if (!joined) {
      const keys = await Promise.all(subjects.map((s) => this.keyFor(s)));
      subjects.forEach((subject, i) => into.set(subject, keys[i]));
      return false;
    }
    const within = client;
    // Not cached either: what the transaction reads may be a key it wrote
    // itself, gone if it rolls back.
    for (const stored of await this.keys.findBySubjects(subjects, within)) {
      into.set(stored.subjectId, this.usable(stored, false));
    }
    let wrote = false;
    for (const subject of subjects) {
      if (into.has(subject)) continue;
      const key = MasterKey.newDataKey();
      const stored = await this.keys.create(
        { subjectId: subject, keyId: randomUUID(), key: this.master.wrap(key) },
        within,
      );
      wrote = true;
      // A key written in a transaction is cached only once read back after
      // it committed: a rollback must not leave events sealed with it.
      into.set(stored.subjectId, this.usable(stored, false));
    }
    return wrote;
  }

  /**
   * The subject's key, from the key store's own connection. Concurrent
   * appends share lookups: while one runs, the subjects asked for meanwhile
   * queue for the next, looked up (and the missing created) together, as the
   * group commit does for events.
   */
  private keyFor(subject: string): Promise<DataKey> {
    let key = this.awaited.get(subject);
    if (!key) {
      key = new Promise<DataKey>((resolve, reject) =>
        this.queued.set(subject, { resolve, reject }),
      );
      this.awaited.set(subject, key);
      if (!this.lookingUp) void this.lookUpQueued();
    }
    return key;
  }

  private async lookUpQueued(): Promise<void> {
    this.lookingUp = true;
    try {
      while (this.queued.size > 0) {
        const batch = this.queued;
        this.queued = new Map();
        const evictions = this.evictions;
        let stored: Map<string, StoredDataKey>;
        try {
          stored = await this.findOrCreate([...batch.keys()]);
        } catch (error) {
          for (const [subject, waiter] of batch) {
            this.awaited.delete(subject);
            waiter.reject(error);
          }
          continue;
        }
        const cache = evictions === this.evictions;
        for (const [subject, waiter] of batch) {
          this.awaited.delete(subject);
          try {
            waiter.resolve(
              this.usable(stored.get(subject) as StoredDataKey, cache),
            );
          } catch (error) {
            waiter.reject(error);
          }
        }
      }
    } finally {
      this.lookingUp = false;
    }
  }

  /** The subjects' stored keys, the missing ones created: two round trips at most. */
  private async findOrCreate(
    subjects: readonly string[],
  ): Promise<Map<string, StoredDataKey>> {
    const found = new Map<string, StoredDataKey>();
    for (const stored of await this.keys.findBySubjects(subjects)) {
      found.set(stored.subjectId, stored);
    }
    const missing = subjects.filter((subject) => !found.has(subject));
    if (missing.length > 0) {
      const created = await this.keys.createMany(
        missing.map((subjectId) => ({
          subjectId,
          keyId: randomUUID(),
          key: this.master.wrap(MasterKey.newDataKey()),
        })),
      );
      for (const stored of created) found.set(stored.subjectId, stored);
    }
    for (const subject of subjects) {
      if (!found.has(subject)) {
        throw new Error(`the key store returned no key for subject ${subject}`);
      }
    }
    return found;
  }

  private usable(stored: StoredDataKey, cache: boolean): DataKey {
    let key: Buffer;
    try {
      key = this.master.unwrap(stored.key);
    } catch (error) {
      throw new PersonalDataUnreadableError(
        `of subject ${stored.subjectId} (to append)`,
        (error as Error).message,
      );
    }
    const dataKey = sealingKey(stored.keyId, key);
    if (cache) {
      this.bySubject.set(stored.subjectId, dataKey);
      this.byId.set(stored.keyId, dataKey);
    }
    return dataKey;
  }

  open(
    rows: readonly SealedPayload[],
    client: SqlClient,
    describe: (index: number) => string,
  ): Promise<void> | undefined {
    let sealed: number[] | undefined;
    for (let i = 0; i < rows.length; i++) {
      const payload = rows[i].payload;
      for (const field in payload) {
        if (isSealed(payload[field])) {
          (sealed ??= []).push(i);
          break;
        }
      }
    }
    return sealed && this.openRows(rows, sealed, client, describe);
  }

  private async openRows(
    rows: readonly SealedPayload[],
    indexes: readonly number[],
    client: SqlClient,
    describe: (index: number) => string,
  ): Promise<void> {
    const states = new Map<string, KeyState>();
    const missing = new Set<string>();
    for (const i of indexes) {
      const payload = rows[i].payload;
      for (const field in payload) {
        const value = payload[field];
        if (!isSealed(value)) continue;
        const keyId = keyIdOf(value);
        if (keyId === undefined || states.has(keyId)) continue;
        const cached = this.byId.get(keyId);
        if (cached !== undefined) states.set(keyId, cached);
        else missing.add(keyId);
      }
    }
    if (missing.size > 0) await this.fetchByIds([...missing], client, states);
    for (const i of indexes) this.openRow(rows[i], states, () => describe(i));
  }

  private async fetchByIds(
    keyIds: string[],
    client: SqlClient,
    into: Map<string, KeyState>,
  ): Promise<void> {
    // Malformed ids (damaged text) are not asked for: they read as broken.
    const wellFormed = keyIds.filter((id) => UUID.test(id));
    const evictions = this.evictions;
    const found = await this.keys.findByIds(wellFormed, client);
    // What was read while a subject was forgotten serves this read only.
    const cache = evictions === this.evictions;
    for (const stored of found) {
      let state: KeyState;
      try {
        state = sealingKey(stored.keyId, this.master.unwrap(stored.key));
        if (cache) this.bySubject.set(stored.subjectId, state);
      } catch (error) {
        state = { broken: (error as Error).message };
      }
      if (cache) this.byId.set(stored.keyId, state);
      into.set(stored.keyId, state);
    }
    for (const id of keyIds) {
      if (into.has(id)) continue;
      if (UUID.test(id)) {
        // Forgotten: key ids are random, a deleted one never comes back.
        this.byId.set(id, null);
        into.set(id, null);
      } else into.set(id, { broken: 'its key id is damaged' });
    }
  }

  private openRow(
    row: SealedPayload,
    states: ReadonlyMap<string, KeyState>,
    describe: () => string,
  ): void {
    let definition: PersonalDataDefinition | undefined;
    let definitionRead = false;
    const payload = row.payload;
    for (const field in payload) {
      const value = payload[field];
      if (!isSealed(value)) continue;
      const keyId = keyIdOf(value);
      const state = keyId === undefined ? undefined : states.get(keyId);
      if (state === undefined) {
        throw new PersonalDataUnreadableError(
          describe(),
          `field '${field}' is not in a known sealed format`,
        );
      }
      if (state === null) {
        if (!definitionRead) {
          definitionRead = true;
          definition = placeholderSource(row.type);
        }
        payload[field] = definition?.fields.get(field)?.placeholder ?? null;
        continue;
      }
      if ('broken' in state) {
        throw new PersonalDataUnreadableError(
          describe(),
          `field '${field}': ${state.broken}`,
        );
      }
      try {
        payload[field] = open(value, state);
      } catch (error) {
        throw new PersonalDataUnreadableError(
          describe(),
          `field '${field}' does not decrypt (its ciphertext was damaged)`,
          { cause: error },
        );
      }
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The type's placeholders; none (null) when the type is not known here. */
function placeholderSource(type: string): PersonalDataDefinition | undefined {
  try {
    return personalDataOfType(type);
  } catch {
    return undefined;
  }
}
