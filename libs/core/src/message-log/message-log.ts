import {
  segmentReads,
  type SqlClient,
  type StoreSchema,
} from '../store/index.js';
import {
  loggedMessageOf,
  type LoggedMessage,
  type LogRow,
} from './logged-message.js';
import {
  buildTrace,
  type MessageTrace,
  type PassageRow,
  type ProcessStepRow,
  type TracedEventRow,
} from './message-trace.js';
import {
  encodeCursor,
  LOG_ROW_COLUMNS,
  searchStatement,
  type MessageLogFilter,
  type MessageLogPage,
} from './search-filter.js';

/** One page of a search, newest first. */
export interface MessageLogSearchPage {
  readonly rows: readonly LoggedMessage[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/** How much of a conversation a trace reads at most (its oldest rows). */
export const TRACE_ROW_LIMIT = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const byIdSql = (s: StoreSchema) => `
  SELECT ${LOG_ROW_COLUMNS} FROM ${s.messageLog} WHERE id = $1 ORDER BY logged_at, id`;

const correlationOfSql = (s: StoreSchema) => `
  SELECT coalesce(
    (SELECT correlation_id FROM ${s.messageLog} WHERE id = $1 AND correlation_id IS NOT NULL LIMIT 1),
    (SELECT $1 FROM ${s.messageLog} WHERE correlation_id = $1 LIMIT 1)) AS correlation_id`;

const conversationSql = (s: StoreSchema) => `
  SELECT ${LOG_ROW_COLUMNS} FROM ${s.messageLog}
  WHERE correlation_id = $1 ORDER BY logged_at, id LIMIT $2`;

const EVENT_COLUMNS = `position::text AS position, id::text AS id, stream_id, type, created_at,
  metadata->>'causationId' AS causation_id, metadata->>'correlationId' AS correlation_id`;

// By primary key: the positions the commands' rows name.
const eventsAtSql = (s: StoreSchema) => `
  SELECT ${EVENT_COLUMNS} FROM ${s.events}
  WHERE position = ANY($1::text::bigint[])`;

// By the unique index on id: causes of rows the log does not hold, walked upwards.
const eventsByIdSql = (s: StoreSchema) => `
  SELECT ${EVENT_COLUMNS} FROM ${s.events}
  WHERE id = ANY($1::text::uuid[])`;

const rowsByIdSql = (s: StoreSchema) => `
  SELECT ${LOG_ROW_COLUMNS} FROM ${s.messageLog}
  WHERE id IN (SELECT jsonb_array_elements_text($1::text::jsonb))`;

// Each consumer against each event: its checkpoint in the segment the event's stream hashes to (every segment of one sequenced by key).
const passagesSql = (s: StoreSchema) => `
  SELECT e.position::text AS position, p.consumer,
         bool_and((p.transaction_id, p.position) >= (e.transaction_id, e.position)) AS passed,
         bool_or(p.stopped) AS stopped
  FROM ${s.events} e
  JOIN ${s.table('consumer_positions')} p
    ON ${segmentReads('e.stream_id', 'p')}
  WHERE e.position = ANY($1::text::bigint[])
  GROUP BY e.position, p.consumer`;

// The process manager steps run on the conversation's messages (migration 15).
const processStepsSql = (s: StoreSchema) => `
  SELECT event_id::text AS event_id, name, key, handler, commands,
         handled_at
  FROM ${s.table('process_steps')}
  WHERE event_id = ANY($1::text::uuid[])`;

/** How many times a trace looks up causes it has not read yet. */
const CAUSE_ROUNDS = 8;

/**
 * Reads the message log: search with keyset paging, one message's rows, and
 * the correlation tree of a conversation (see docs/guides/message-log.md).
 */
export class MessageLog {
  constructor(
    private readonly client: SqlClient,
    private readonly schema: StoreSchema,
  ) {}

  /**
   * Rows matching `filter`, newest first, one page at a time. Throws
   * `MessageLogSearchError` naming the filter that cannot work.
   */
  async search(
    filter: MessageLogFilter = {},
    page: MessageLogPage = {},
  ): Promise<MessageLogSearchPage> {
    const statement = searchStatement(this.schema, filter, page);
    const rows = await this.client.query<LogRow>(
      statement.text,
      statement.params,
    );
    const shown = rows.slice(0, statement.limit);
    const last = shown[shown.length - 1];
    return {
      rows: shown.map(loggedMessageOf),
      ...(rows.length > statement.limit && {
        next: encodeCursor(last.logged_at_text, last.id),
      }),
    };
  }

  /** The rows of one message id (usually one; a schedule and what it delivered may share it). */
  async get(id: string): Promise<LoggedMessage[]> {
    const rows = await this.client.query<LogRow>(this.schema.sql(byIdSql), [
      id,
    ]);
    return rows.map(loggedMessageOf);
  }

  /**
   * The conversation `id` belongs to (a message id, an event id, or a
   * correlation id) as a tree of what caused what; `undefined` when nothing
   * in the log or the store has that id.
   */
  async trace(id: string): Promise<MessageTrace | undefined> {
    const s = this.schema;
    const [found] = await this.client.query<{ correlation_id: string | null }>(
      s.sql(correlationOfSql),
      [id],
    );
    let correlationId = found?.correlation_id ?? null;
    const startEvents: TracedEventRow[] = [];
    if (correlationId === null && UUID.test(id)) {
      const [event] = await this.client.query<
        TracedEventRow & { correlation_id: string | null }
      >(s.sql(eventsByIdSql), [`{${id}}`]);
      if (event) {
        startEvents.push(event);
        correlationId = event.correlation_id ?? id;
      }
    }
    if (correlationId === null) return undefined;

    const rows = await this.client.query<LogRow>(s.sql(conversationSql), [
      correlationId,
      TRACE_ROW_LIMIT + 1,
    ]);
    const truncated = rows.length > TRACE_ROW_LIMIT;
    if (truncated) rows.length = TRACE_ROW_LIMIT;
    const positions = [...new Set(rows.flatMap((r) => r.positions ?? []))];
    const events = [...startEvents];
    if (positions.length > 0) {
      events.push(
        ...(await this.client.query<TracedEventRow>(s.sql(eventsAtSql), [
          `{${positions.join(',')}}`,
        ])),
      );
    }
    await this.readCauses(rows, events);
    const allPositions = [...new Set(events.map((e) => e.position))];
    const passages =
      allPositions.length === 0
        ? []
        : await this.client.query<PassageRow>(s.sql(passagesSql), [
            `{${allPositions.join(',')}}`,
          ]);
    const ids = [
      ...new Set([...rows.map((r) => r.id), ...events.map((e) => e.id)]),
    ].filter((id) => UUID.test(id));
    const steps =
      ids.length === 0
        ? []
        : await this.client.query<ProcessStepRow>(s.sql(processStepsSql), [
            `{${ids.join(',')}}`,
          ]);
    return buildTrace(correlationId, rows, events, passages, truncated, steps);
  }

  /**
   * Causes named but not read (an event a consumer appended outside any
   * logged command, the command of an event the trace started from), looked
   * up by id through unique indexes, a few rounds up the chain.
   */
  private async readCauses(
    rows: LogRow[],
    events: TracedEventRow[],
  ): Promise<void> {
    const s = this.schema;
    const known = new Set<string>([
      ...rows.map((r) => r.id),
      ...events.map((e) => e.id),
    ]);
    const asked = new Set<string>();
    for (let round = 0; round < CAUSE_ROUNDS; round++) {
      const missing = [
        ...new Set(
          [
            ...rows.map((r) => r.causation_id),
            ...events.map((e) => e.causation_id),
          ].filter(
            (c): c is string => c !== null && !known.has(c) && !asked.has(c),
          ),
        ),
      ];
      if (missing.length === 0) return;
      missing.forEach((c) => asked.add(c));
      const eventIds = missing.filter((c) => UUID.test(c));
      const newEvents =
        eventIds.length === 0
          ? []
          : await this.client.query<TracedEventRow>(s.sql(eventsByIdSql), [
              `{${eventIds.join(',')}}`,
            ]);
      const newRows = await this.client.query<LogRow>(s.sql(rowsByIdSql), [
        JSON.stringify(missing),
      ]);
      for (const event of newEvents) {
        if (known.has(event.id)) continue;
        known.add(event.id);
        events.push(event);
      }
      for (const row of newRows) {
        known.add(row.id);
        rows.push(row);
      }
    }
  }
}
