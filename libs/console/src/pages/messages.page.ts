import type { LoggedMessage, MessageLogSearchPage } from '@chronicle/core';
import { html, page, query, type PageContext } from '../html/index.js';
import { SEARCH_FIELDS, type SearchQuery } from './search-form.js';

const PLACEHOLDERS: Record<(typeof SEARCH_FIELDS)[number], string> = {
  type: 'orders.PlaceOrder',
  app: 'orders',
  outcome: 'ok, rejected, failed',
  since: '1h, or 2026-12-05T10:00',
  until: '2026-12-05T11:00 (UTC)',
  correlation: 'a correlation id',
  stream: 'orders.Order-o-1',
};

function outcomeCell(row: LoggedMessage) {
  return html`<span class="outcome outcome-${row.outcome}"
    >${row.outcome}</span
  >`;
}

function rowOf(ctx: PageContext, row: LoggedMessage) {
  const user = (row.metadata.user as { id?: unknown } | undefined)?.id;
  return html`<tr class="${row.outcome === 'ok' ? '' : 'failed'}">
    <td><time>${row.loggedAt}</time></td>
    <td>${row.kind}</td>
    <td>
      <a href="${ctx.base}/messages/${encodeURIComponent(row.id)}"
        >${row.type}</a
      >
    </td>
    <td>${row.app}</td>
    <td>
      ${outcomeCell(row)}${row.error ? html` <span class="error-text">${row.error.name}: ${row.error.message}</span>` : ''}
    </td>
    <td class="num">
      ${row.durationMs === null ? '' : `${row.durationMs} ms`}
    </td>
    <td>${typeof user === 'string' ? user : ''}</td>
    <td>
      ${row.streams.map((s) => html`<a href="${ctx.base}/aggregates${query({ stream: s })}">${s}</a> `)}
    </td>
  </tr>`;
}

/** The message log: the search form and one page of results, newest first. */
export function messagesPage(
  ctx: PageContext,
  search: SearchQuery,
  result: MessageLogSearchPage | undefined,
  error?: string,
): string {
  const fields = SEARCH_FIELDS.map(
    (field) =>
      html`<label
        >${field}
        <input
          name="${field}"
          value="${search[field] ?? ''}"
          placeholder="${PLACEHOLDERS[field]}"
          ${field === 'outcome' ? html` list="outcomes"` : ''}
      /></label>`,
  );
  const next =
    result?.next &&
    `${ctx.base}/messages${query({ ...search, after: result.next })}`;
  return page(
    ctx,
    'messages',
    'Message log',
    html`<form class="filters" method="get" action="${ctx.base}/messages">
        ${fields}
        <datalist id="outcomes">
          <option value="ok"></option>
          <option value="rejected"></option>
          <option value="failed"></option>
        </datalist>
        <button type="submit">Search</button>
        <a href="${ctx.base}/messages">clear</a>
      </form>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${
        result &&
        (result.rows.length === 0
          ? html`<p class="empty">No message matches.</p>`
          : html`<table class="log">
              <thead>
                <tr>
                  <th>logged at (UTC)</th>
                  <th>kind</th>
                  <th>type</th>
                  <th>app</th>
                  <th>outcome</th>
                  <th>took</th>
                  <th>user</th>
                  <th>streams</th>
                </tr>
              </thead>
              <tbody>
                ${result.rows.map((row) => rowOf(ctx, row))}
              </tbody>
            </table>`)
      }
      ${next ? html`<p><a class="next" href="${next}">Older messages →</a></p>` : ''}`,
  );
}
