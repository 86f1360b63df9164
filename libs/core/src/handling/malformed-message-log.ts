import { Logger } from '@nestjs/common';
import { ChronicleError, previewForError } from '../messages/index.js';

/** What the log needs of a logger: Nest's `Logger` has it. */
export type MalformedMessageLogger = Pick<Logger, 'error' | 'warn'>;

interface SubjectState {
  count: number;
  /** Refused since the last line about this subject. */
  unreported: number;
  lastReason: string;
  /** A summary is due at the end of the current window. */
  summaryDue: boolean;
}

/** How often, at most, a subject gets a line in the log. */
const DEFAULT_INTERVAL_MS = 10_000;

/**
 * Counts the requests refused before any handler ran (not readable, bad
 * headers or ids, an unsupported revision) and logs them at a bounded rate:
 * the first on a subject in full, then at most one line per interval per
 * subject with how many were refused since. A flood of garbage then costs a
 * few lines, not one stack trace per message. `total` and `bySubject()` are
 * there for health checks and metrics: inject it.
 */
export class MalformedMessageLog {
  private readonly subjects = new Map<string, SubjectState>();
  private refused = 0;

  constructor(
    private readonly logger: MalformedMessageLogger = new Logger('Chronicle'),
    private readonly intervalMs: number = DEFAULT_INTERVAL_MS,
    /** Runs `fn` after `ms` without keeping the process alive; replaceable in tests. */
    private readonly later: (fn: () => void, ms: number) => void = (fn, ms) =>
      setTimeout(fn, ms).unref(),
  ) {}

  /** How many requests were refused as malformed since the app started. */
  get total(): number {
    return this.refused;
  }

  /** The same, per subject. */
  bySubject(): Record<string, number> {
    return Object.fromEntries(
      [...this.subjects].map(([subject, state]) => [subject, state.count]),
    );
  }

  /** Counts one refused request, and logs it if its subject's interval allows. */
  record(subject: string, messageId: string, error: unknown): void {
    this.refused++;
    const reason = error instanceof Error ? error.message : String(error);
    let state = this.subjects.get(subject);
    if (!state) {
      state = { count: 0, unreported: 0, lastReason: reason, summaryDue: true };
      this.subjects.set(subject, state);
      state.count++;
      this.first(subject, messageId, error, reason);
      this.later(() => this.summarize(subject), this.intervalMs);
      return;
    }
    state.count++;
    state.unreported++;
    state.lastReason = reason;
    if (!state.summaryDue) {
      state.summaryDue = true;
      this.later(() => this.summarize(subject), this.intervalMs);
    }
  }

  /** Logs what is still unreported now (at shutdown). */
  flush(): void {
    for (const subject of this.subjects.keys()) this.summarize(subject);
  }

  private first(
    subject: string,
    messageId: string,
    error: unknown,
    reason: string,
  ): void {
    const line =
      `Refused a malformed message on ${subject} (message ${previewForError(messageId)}): ${reason} ` +
      `More on this subject are counted and summed up at most every ${this.intervalMs / 1000} s.`;
    // A message we refused on purpose needs no stack; anything else may be a bug.
    if (error instanceof ChronicleError || !(error instanceof Error)) {
      this.logger.warn(line);
    } else {
      this.logger.error(line, error.stack);
    }
  }

  private summarize(subject: string): void {
    const state = this.subjects.get(subject);
    if (!state) return;
    state.summaryDue = false;
    if (state.unreported === 0) return;
    this.logger.warn(
      `Refused ${state.unreported} more malformed message${state.unreported === 1 ? '' : 's'} on ${subject} ` +
        `(${state.count} since start); the last: ${state.lastReason}`,
    );
    state.unreported = 0;
  }
}
