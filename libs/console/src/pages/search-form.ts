import type { LoggedOutcome, MessageLogFilter } from '@chronicle/core';

/** The message log page's query string, as the form sends it. */
export interface SearchQuery {
  readonly type?: string;
  readonly app?: string;
  readonly outcome?: string;
  readonly since?: string;
  readonly until?: string;
  readonly correlation?: string;
  readonly stream?: string;
  readonly after?: string;
}

export const SEARCH_FIELDS = [
  'type',
  'app',
  'outcome',
  'since',
  'until',
  'correlation',
  'stream',
] as const;

const OUTCOMES: readonly string[] = ['ok', 'rejected', 'failed'];
const RELATIVE = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A search field the page cannot use; shown above the form. */
export class SearchInputError extends Error {}

/** `15m`, `2h`, `1d` ago, or a date (UTC unless it names a zone). */
export function instantOf(text: string, field: string, now = Date.now()): Date {
  const relative = RELATIVE.exec(text.trim());
  if (relative) {
    const unit = relative[2] as keyof typeof UNIT_MS;
    return new Date(now - Number(relative[1]) * UNIT_MS[unit]);
  }
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const date = new Date(zoned);
  if (Number.isNaN(date.getTime())) {
    throw new SearchInputError(
      `${field}: "${text}" is neither a time ago (15m, 2h, 1d) nor a date (2026-12-05T10:00, UTC unless it says).`,
    );
  }
  return date;
}

/** The filter a query string asks for; empty fields are left out. */
export function filterOf(search: SearchQuery): MessageLogFilter {
  const value = (key: (typeof SEARCH_FIELDS)[number]) => {
    const text = search[key];
    return typeof text === 'string' && text.trim() !== ''
      ? text.trim()
      : undefined;
  };
  const outcome = value('outcome');
  if (outcome !== undefined && !OUTCOMES.includes(outcome)) {
    throw new SearchInputError(
      `outcome: "${outcome}" is not one of ${OUTCOMES.join(', ')}.`,
    );
  }
  const since = value('since');
  const until = value('until');
  const filter: {
    -readonly [K in keyof MessageLogFilter]: MessageLogFilter[K];
  } = {};
  if (value('type')) filter.type = value('type');
  if (value('app')) filter.app = value('app');
  if (outcome) filter.outcome = outcome as LoggedOutcome;
  if (since) filter.since = instantOf(since, 'since');
  if (until) filter.until = instantOf(until, 'until');
  if (value('correlation')) filter.correlationId = value('correlation');
  if (value('stream')) filter.stream = value('stream');
  return filter;
}
