import type { SqlClient } from '../../store/index.js';

/** A subject's data key as kept at rest (wrapped, see MasterKey). */
export interface StoredDataKey {
  readonly subjectId: string;
  readonly keyId: string;
  readonly key: string;
}

/**
 * The port where data keys live, one per data subject. Deleting a subject's
 * key is what forgets it. `within` is the transaction the caller runs in,
 * for stores in the same database (others ignore it).
 */
export abstract class KeyStore {
  /** The keys of these subjects that exist, in one round trip. */
  abstract findBySubjects(
    subjectIds: readonly string[],
    within?: SqlClient,
  ): Promise<StoredDataKey[]>;

  /** The keys of these ids that still exist (a forgotten one is absent), in one round trip. */
  abstract findByIds(
    keyIds: readonly string[],
    within?: SqlClient,
  ): Promise<StoredDataKey[]>;

  /**
   * Stores `key` for its subject unless the subject has one already; returns
   * the subject's key either way (a concurrent writer's may win).
   */
  abstract create(
    key: StoredDataKey,
    within?: SqlClient,
  ): Promise<StoredDataKey>;

  /**
   * `create` for several subjects (distinct): the stored key of each, in any
   * order. Override it to do so in one round trip; by default one `create`
   * after another.
   */
  async createMany(
    keys: readonly StoredDataKey[],
    within?: SqlClient,
  ): Promise<StoredDataKey[]> {
    const stored: StoredDataKey[] = [];
    for (const key of keys) stored.push(await this.create(key, within));
    return stored;
  }

  /**
   * Deletes the subject's key; its id, or undefined when it had none.
   * `within` is `forgetSubject`'s transaction, which also records the forget:
   * a store in the same database deletes in it, so both commit together.
   */
  abstract forget(
    subjectId: string,
    within?: SqlClient,
  ): Promise<string | undefined>;
}
