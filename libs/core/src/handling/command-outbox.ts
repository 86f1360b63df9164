import type { SqlClient } from '../store/index.js';
import type { SendOptions } from './send-options.js';

/**
 * Where `MessageGateway.sendAndForget` puts a command: stored durably, with
 * the running unit of work when there is one, and delivered by an instance
 * that handles it. Scheduling implements it on its `schedules` table; it is a
 * port here because handling comes before scheduling.
 */
export abstract class CommandOutbox {
  /**
   * Stores `command` for delivery; resolves to its id once stored (or
   * enlisted in the running command's transaction, to be stored with it).
   */
  abstract add(
    command: object,
    options: Omit<SendOptions, 'timeoutMs'>,
  ): Promise<string>;

  /**
   * Stores `command` for delivery in `tx`, a transaction the caller holds (a
   * consumer's batch, a process manager's step): it is sent when, and only
   * if, `tx` commits. Resolves to its id.
   */
  abstract addIn(
    tx: SqlClient,
    command: object,
    options?: Omit<SendOptions, 'timeoutMs'>,
  ): Promise<string>;
}
