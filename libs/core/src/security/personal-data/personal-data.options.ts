import type { KeyStore } from './key-store.js';

/** `ChronicleModule.forRoot({ personalData })`: how personal data is sealed. */
export interface PersonalDataModuleOptions {
  /**
   * 32 random bytes in base64 that wrap the data keys at rest. Default:
   * `CHRONICLE_MASTER_KEY`; without either, data keys are stored in clear
   * beside the data (forgetting still works; confidentiality at rest does not).
   */
  readonly masterKey?: string;
  /** Data keys kept in memory per process. Default 10 000. */
  readonly cacheSize?: number;
  /**
   * Where data keys live: an adapter of yours for a KMS or a vault. Default:
   * the `personal_data_keys` table beside the events (`PostgresKeyStore`).
   * Every app on one store must use the same one.
   */
  readonly keyStore?: KeyStore;
}
