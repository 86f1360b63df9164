import { ChronicleError } from '../messages/index.js';
import type { LoggedKind } from './log-entry.js';

/** How the message log records (see docs/guides/message-log.md). */
export interface MessageLogOptions {
  /** Default true: every command, schedule delivery and error is logged. */
  readonly enabled?: boolean;
  /** Log queries too (their results and failures). Default false. */
  readonly queries?: boolean;
  /**
   * Days each kind is kept; whole days go at once (a partition per kind and
   * day is dropped). Default: commands, schedules and errors 30, queries 1.
   */
  readonly retentionDays?: Partial<Record<LoggedKind, number>>;
  /** The write-behind buffer of rows not written with a command's events. */
  readonly buffer?: {
    /** Rows held at most; past it, rows are dropped (counted and logged). Default 10,000. */
    readonly size?: number;
    /** Rows per INSERT. Default 500. */
    readonly batchSize?: number;
    /** How long a row may wait for others before it is written, in ms. Default 200. */
    readonly flushIntervalMs?: number;
  };
  /** Keep errors' stacks in the log. Default: the transport's `debug` option. */
  readonly stacks?: boolean;
}

export interface ResolvedMessageLogOptions {
  readonly enabled: boolean;
  readonly queries: boolean;
  readonly retentionDays: Readonly<Record<LoggedKind, number>>;
  readonly bufferSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly stacks: boolean;
}

export const MESSAGE_LOG_OPTIONS = Symbol('chronicle:message-log-options');

const DEFAULT_RETENTION_DAYS: Readonly<Record<LoggedKind, number>> = {
  command: 30,
  schedule: 30,
  error: 30,
  query: 1,
};

/** A `messageLog` option that cannot work; the message names it. */
export class MessageLogOptionsError extends ChronicleError {
  readonly code = 'MESSAGE_LOG_OPTIONS';
}

/** Options with their defaults, each checked (a wrong one names itself). */
export function resolveMessageLogOptions(
  options: MessageLogOptions | boolean | undefined,
  debug = false,
): ResolvedMessageLogOptions {
  const given: MessageLogOptions =
    typeof options === 'boolean' ? { enabled: options } : (options ?? {});
  const retentionDays = { ...DEFAULT_RETENTION_DAYS };
  for (const [kind, days] of Object.entries(given.retentionDays ?? {})) {
    if (!(kind in DEFAULT_RETENTION_DAYS)) {
      throw new MessageLogOptionsError(
        `messageLog.retentionDays.${kind}: no such kind; use command, query, schedule or error.`,
      );
    }
    retentionDays[kind as LoggedKind] = wholeAtLeast(
      days,
      1,
      `messageLog.retentionDays.${kind}`,
    );
  }
  const buffer = given.buffer ?? {};
  return {
    enabled: given.enabled ?? true,
    queries: given.queries ?? false,
    retentionDays,
    bufferSize: wholeAtLeast(
      buffer.size ?? 10_000,
      1,
      'messageLog.buffer.size',
    ),
    batchSize: wholeAtLeast(
      buffer.batchSize ?? 500,
      1,
      'messageLog.buffer.batchSize',
    ),
    flushIntervalMs: wholeAtLeast(
      buffer.flushIntervalMs ?? 200,
      0,
      'messageLog.buffer.flushIntervalMs',
    ),
    stacks: given.stacks ?? debug,
  };
}

function wholeAtLeast(value: unknown, min: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MessageLogOptionsError(
      `${name} must be a whole number >= ${min}, got ${String(value)}.`,
    );
  }
  return value;
}
