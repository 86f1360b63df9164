import type { LoggedError, LoggedKind, LoggedOutcome } from './log-entry.js';
import { isoOf, loggedMessageOf, type LogRow } from './logged-message.js';

/**
 * A conversation as a tree of what caused what: the JSON form of
 * `MessageLog.trace` and of `chronicle trace --json`, meant for consoles.
 * Every field is plain JSON: instants are ISO 8601 strings, positions strings.
 */
export interface MessageTrace {
  /** The correlation id every message of the conversation carries. */
  readonly correlationId: string;
  /** The first message of the conversation, with everything it caused below it. */
  readonly root: TraceNode;
  /**
   * Parts whose cause is not in the log (a message sent outside any logged
   * handling, a query when queries are not logged, a row past its retention),
   * oldest first, each with what it caused.
   */
  readonly detached: readonly TraceNode[];
  /** Nodes in the tree (root and detached parts). */
  readonly messages: number;
  /** Nodes whose outcome is not `ok`, and error messages. */
  readonly failures: number;
  /** True when the conversation has more log rows than the trace reads (the oldest are kept). */
  readonly truncated: boolean;
}

/** A consumer's progress past one event. */
export interface ConsumerPassage {
  readonly consumer: string;
  /**
   * Its checkpoint (for the event's segment) is at or past the event: the
   * consumer handled it, or skipped it as a type it does not handle.
   */
  readonly passed: boolean;
  /** A segment of the consumer that would handle the event is stopped. */
  readonly stopped: boolean;
  /** An error message of this conversation names the consumer and this event. */
  readonly failed: boolean;
}

/** A process manager's step run on a message (see processes/). */
export interface ProcessStepPassage {
  /** The process manager's name. */
  readonly process: string;
  /** The instance's association key. */
  readonly key: string;
  /** The method that ran. */
  readonly method: string;
  /** The ids of the commands the step sent (they appear as its message's children once delivered). */
  readonly commands: readonly string[];
  readonly at: string;
}

/** One message of a conversation, and what it caused. */
export interface TraceNode {
  /** The log's kinds, and `event` for events of the store. */
  readonly kind: LoggedKind | 'event';
  readonly id: string;
  readonly type: string;
  /** The app (and instance) that handled it; for an event, that of the command that appended it. */
  readonly app: string | null;
  readonly instance: string | null;
  /** When its handling started; an event's own timestamp. */
  readonly at: string;
  /** Milliseconds from the root's `at` to this one's. */
  readonly offsetMs: number;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** `null` for events (they happened). */
  readonly outcome: LoggedOutcome | null;
  readonly error: LoggedError | null;
  /** An event's stream and global position. */
  readonly streamId?: string;
  readonly position?: string;
  /** An event's consumers, by name. */
  readonly consumers?: readonly ConsumerPassage[];
  /** An error message's consumer, when it names one. */
  readonly consumer?: string;
  /** The process manager steps this message (an event, a deadline, an error message) ran. */
  readonly processSteps?: readonly ProcessStepPassage[];
  /** What it caused, in order of time. */
  readonly children: readonly TraceNode[];
}

/** An event as the trace reads it from the store. */
export interface TracedEventRow {
  position: string;
  id: string;
  stream_id: string;
  type: string;
  created_at: Date | string;
  causation_id: string | null;
}

/** One consumer's state against one event (grouped over its segments). */
export interface PassageRow {
  position: string;
  consumer: string;
  passed: boolean;
  stopped: boolean;
}

/** A row of `process_steps` for a message of the conversation. */
export interface ProcessStepRow {
  event_id: string;
  name: string;
  key: string;
  handler: string;
  commands: readonly string[];
  handled_at: Date | string;
}

interface Draft {
  readonly node: Omit<
    TraceNode,
    'children' | 'offsetMs' | 'consumers' | 'processSteps'
  >;
  readonly atMs: number;
  readonly causationId: string | null;
  readonly positions: readonly string[];
  readonly children: Draft[];
  consumers?: ConsumerPassage[];
  processSteps?: ProcessStepPassage[];
  parent?: Draft;
}

/**
 * Builds the tree from what was read: log rows, their events, and the
 * consumers' positions. An event's parent is the row whose positions hold it
 * (else its causation id); a row's parent is its causation id's message; two
 * rows of one id (a schedule and the command it delivered) nest in time order.
 * The root is the message the conversation is named after, else the oldest
 * without a cause.
 */
export function buildTrace(
  correlationId: string,
  rows: readonly LogRow[],
  events: readonly TracedEventRow[],
  passages: readonly PassageRow[],
  truncated: boolean,
  steps: readonly ProcessStepRow[] = [],
): MessageTrace | undefined {
  const drafts: Draft[] = [];
  const byId = new Map<string, Draft>();
  const byPosition = new Map<string, Draft>();
  const add = (draft: Draft) => {
    drafts.push(draft);
    const same = byId.get(draft.node.id);
    if (same) draft.parent = same;
    else byId.set(draft.node.id, draft);
  };

  for (const row of [...rows].sort(compareRows)) {
    const m = loggedMessageOf(row);
    add({
      node: {
        kind: m.kind,
        id: m.id,
        type: m.type,
        app: m.app,
        instance: m.instance,
        at: m.loggedAt,
        finishedAt: m.finishedAt,
        durationMs: m.durationMs,
        outcome: m.outcome,
        error: m.error,
        ...(m.kind === 'error' && consumerOf(m) !== undefined
          ? { consumer: consumerOf(m) }
          : {}),
      },
      atMs: Date.parse(m.loggedAt),
      causationId: m.causationId,
      positions: m.positions,
      children: [],
    });
  }
  const appenders = new Map<string, Draft>();
  for (const draft of drafts) {
    for (const position of draft.positions) appenders.set(position, draft);
  }
  for (const event of [...events].sort(
    (a, b) => Number(a.position) - Number(b.position),
  )) {
    if (byPosition.has(event.position)) continue;
    const appender = appenders.get(event.position);
    const at = isoOf(event.created_at);
    const draft: Draft = {
      node: {
        kind: 'event',
        id: event.id,
        type: event.type,
        app: appender?.node.app ?? null,
        instance: appender?.node.instance ?? null,
        at,
        finishedAt: null,
        durationMs: null,
        outcome: null,
        error: null,
        streamId: event.stream_id,
        position: event.position,
      },
      atMs: Date.parse(at),
      causationId: event.causation_id,
      positions: [],
      children: [],
      parent: appender,
    };
    byPosition.set(event.position, draft);
    add(draft);
  }

  for (const draft of drafts) {
    if (draft.parent === undefined && draft.causationId !== null) {
      const cause = byId.get(draft.causationId);
      if (cause !== draft) draft.parent = cause;
    }
  }
  for (const passage of passages) {
    const event = byPosition.get(passage.position);
    if (!event) continue;
    const failed = drafts.some(
      (d) =>
        d.node.kind === 'error' &&
        d.causationId === event.node.id &&
        d.node.consumer === passage.consumer,
    );
    (event.consumers ??= []).push({
      consumer: passage.consumer,
      passed: passage.passed,
      stopped: passage.stopped,
      failed,
    });
  }

  for (const step of [...steps].sort(
    (a, b) => Date.parse(isoOf(a.handled_at)) - Date.parse(isoOf(b.handled_at)),
  )) {
    const message = byId.get(step.event_id);
    if (!message) continue;
    (message.processSteps ??= []).push({
      process: step.name,
      key: step.key,
      // The handler is `process:<name>:<key>:<method>`; a key may hold colons.
      method: step.handler.slice(step.handler.lastIndexOf(':') + 1),
      commands: step.commands,
      at: isoOf(step.handled_at),
    });
  }

  // Children by parent; whatever a cycle of bad causation ids leaves unreached is detached.
  for (const draft of drafts) draft.parent?.children.push(draft);
  const tops = drafts.filter((d) => d.parent === undefined).sort(byTime);
  const reached = new Set<Draft>();
  const visit = (draft: Draft) => {
    if (reached.has(draft)) return;
    reached.add(draft);
    draft.children.sort(byTime).forEach(visit);
  };
  tops.forEach(visit);
  for (const draft of drafts) {
    if (!reached.has(draft)) {
      draft.parent?.children.splice(draft.parent.children.indexOf(draft), 1);
      draft.parent = undefined;
      tops.push(draft);
      visit(draft);
    }
  }
  if (tops.length === 0) return undefined;

  const named = tops.find((d) => d.node.id === correlationId);
  const rootDraft = named ?? tops[0];
  const origin = rootDraft.atMs;
  let failures = 0;
  const finish = (draft: Draft, seen: Set<Draft>): TraceNode => {
    seen.add(draft);
    if (
      draft.node.kind === 'error' ||
      (draft.node.outcome !== null && draft.node.outcome !== 'ok')
    )
      failures++;
    return {
      ...draft.node,
      offsetMs: draft.atMs - origin,
      ...(draft.consumers && {
        consumers: [...draft.consumers].sort((a, b) =>
          a.consumer.localeCompare(b.consumer),
        ),
      }),
      ...(draft.processSteps && { processSteps: draft.processSteps }),
      children: draft.children
        .filter((c) => !seen.has(c))
        .map((c) => finish(c, seen)),
    };
  };
  const seen = new Set<Draft>();
  const root = finish(rootDraft, seen);
  const detached = tops
    .filter((d) => d !== rootDraft)
    .map((d) => finish(d, seen));
  return {
    correlationId,
    root,
    detached,
    messages: seen.size,
    failures,
    truncated,
  };
}

/**
 * An error message's consumer: its handler, `consumer:<consumer>:<method>`
 * (see error-messages/), else a `consumer` its metadata or payload names.
 */
function consumerOf(message: {
  metadata: Readonly<Record<string, unknown>>;
  payload: unknown;
}): string | undefined {
  const fromMetadata = message.metadata.consumer;
  if (typeof fromMetadata === 'string') return fromMetadata;
  const payload = message.payload;
  if (payload !== null && typeof payload === 'object') {
    const { consumer, handler } = payload as Record<string, unknown>;
    if (typeof consumer === 'string') return consumer;
    const named =
      typeof handler === 'string'
        ? /^consumer:(.+):[^:]+$/.exec(handler)
        : null;
    if (named) return named[1];
  }
  return undefined;
}

/** A delivery before what it delivered: a schedule's row and its command's share an id and often a millisecond. */
const KIND_ORDER: Readonly<Record<string, number>> = {
  schedule: 0,
  command: 1,
  query: 2,
  error: 3,
};

function compareRows(a: LogRow, b: LogRow): number {
  const at =
    Date.parse(isoOf(a.logged_at_text)) - Date.parse(isoOf(b.logged_at_text));
  if (at !== 0) return at;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9);
}

function byTime(a: Draft, b: Draft): number {
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  // A cause before what it caused at the same millisecond: events after their command.
  return (a.node.kind === 'event' ? 1 : 0) - (b.node.kind === 'event' ? 1 : 0);
}
