import type { Envelope } from '../messages/index.js';
import type { MessageLogRecord } from '../store/index.js';
import {
  toLogRecord,
  type LogEntry,
  type LoggedError,
  type LoggedKind,
  type LoggedOutcome,
} from './log-entry.js';
import { loggedErrorOf, loggedOutcomeOf } from './logged-error.js';
import type { MessageLogWriter } from './log-writer.js';

/** Who handles here: the app and the instance, named in every row. */
export interface LogSource {
  readonly app?: string;
  readonly instance: string;
}

/**
 * One handling on its way into the log. Its unit of work asks it for the row
 * when it appends (`rowFor`): the row then commits with the events, and
 * `written` says so; else `ok` or `failed` queue it behind.
 */
export class LoggedHandling {
  written = false;

  constructor(
    private readonly writer: MessageLogWriter,
    private readonly source: LogSource,
    readonly kind: LoggedKind,
    private readonly envelope: () => Envelope<object>,
    private readonly payload: () => unknown,
    private readonly message: object | undefined,
    private readonly senderApp: string | undefined,
    private readonly receivedAt: Date,
  ) {}

  /** The row for an append that carries it: the handling ended well at this moment. */
  rowFor(result: unknown): MessageLogRecord {
    return toLogRecord(this.entry('ok', new Date(), result, undefined));
  }

  /** Ended well: logged behind unless an append carried the row. */
  ok(result: unknown): void {
    if (this.written) return;
    this.writer.record(this.entry('ok', new Date(), result, undefined));
  }

  /** Ended with `error` (after any retries): logged behind. */
  failed(error: unknown): void {
    this.writer.record(
      this.entry(
        loggedOutcomeOf(error),
        new Date(),
        undefined,
        loggedErrorOf(error, this.writer.options.stacks),
      ),
    );
  }

  private entry(
    outcome: LoggedOutcome,
    finishedAt: Date,
    result: unknown,
    error: LoggedError | undefined,
  ): LogEntry {
    const envelope = this.envelope();
    return {
      kind: this.kind,
      id: envelope.id,
      type: envelope.type,
      revision: envelope.revision,
      payload: this.payload(),
      message: this.message,
      metadata: envelope.metadata,
      app: this.source.app,
      instance: this.source.instance,
      senderApp: this.senderApp,
      receivedAt: this.receivedAt,
      finishedAt,
      outcome,
      result,
      error,
    };
  }
}

/** Starts handlings in the log, or nothing when the log (or its kind) is off. */
export class HandlingLog {
  constructor(
    private readonly writer: MessageLogWriter | undefined,
    private readonly source: LogSource,
  ) {}

  /** Whether handlings of `kind` are logged. */
  logs(kind: LoggedKind): boolean {
    const options = this.writer?.options;
    if (!options?.enabled) return false;
    return kind !== 'query' || options.queries;
  }

  start(
    kind: LoggedKind,
    envelope: () => Envelope<object>,
    payload: () => unknown,
    message: object | undefined,
    senderApp: string | undefined,
  ): LoggedHandling | undefined {
    if (!this.writer || !this.logs(kind)) return undefined;
    return new LoggedHandling(
      this.writer,
      this.source,
      kind,
      envelope,
      payload,
      message,
      senderApp,
      new Date(),
    );
  }
}
