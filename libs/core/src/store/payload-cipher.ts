import type { StreamAppend } from './event-store.js';
import type { SqlClient } from './postgres/sql-client.js';

/** A read event's payload, to open in place before it is decoded. */
export interface SealedPayload {
  readonly type: string;
  payload: Record<string, unknown>;
}

/** What sealing a unit of work's events did besides rewriting them. */
export interface SealedAppends {
  readonly appends: readonly StreamAppend[];
  /**
   * Whether sealing wrote (a new subject's key) through `client` inside its
   * transaction: the append that follows is then not its transaction's first
   * write. Only on PGlite, whose single session runs one transaction at a time.
   */
  readonly wroteInTransaction: boolean;
}

/**
 * The store's seam for encrypting parts of event payloads (see
 * security/personal-data): every append passes its events through `seal`,
 * every read its rows through `open`. The store knows nothing of what is
 * sealed, or how.
 */
export interface PayloadCipher {
  /**
   * The appends with what must not be stored in clear sealed; at once (no
   * promise) when that needs no round trip.
   */
  seal(
    appends: readonly StreamAppend[],
    client: SqlClient,
  ): SealedAppends | Promise<SealedAppends>;
  /**
   * Opens the sealed parts of `rows`' payloads in place. Undefined when none
   * holds any (no promise to wait for). `describe` names a row in errors.
   */
  open(
    rows: readonly SealedPayload[],
    client: SqlClient,
    describe: (index: number) => string,
  ): Promise<void> | undefined;
}
