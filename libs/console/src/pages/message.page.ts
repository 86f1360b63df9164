import type { LoggedMessage, MessageTrace } from '@chronicle/core';
import { html, page, pretty, query, type PageContext } from '../html/index.js';
import { traceSvg } from './trace-svg.js';

/** `1 message`, `6 messages`. */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function facts(ctx: PageContext, row: LoggedMessage) {
  const entries: [string, unknown][] = [
    ['kind', row.kind],
    ['type', `${row.type}${row.revision === null ? '' : ` r${row.revision}`}`],
    ['app', `${row.app ?? ''}${row.instance ? ` (${row.instance})` : ''}`],
    ['sent by app', row.senderApp],
    ['logged at', row.loggedAt],
    ['took', row.durationMs === null ? null : `${row.durationMs} ms`],
    ['causation', row.causationId],
  ];
  return html`<dl class="facts">
    ${entries
      .filter(([, v]) => v !== null && v !== '')
      .map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${String(v)}</dd>`,
      )}
    <dt>outcome</dt>
    <dd><span class="outcome outcome-${row.outcome}">${row.outcome}</span></dd>
    ${
      row.correlationId
        ? html`<dt>correlation</dt>
            <dd>
              <a
                href="${ctx.base}/messages${query({ correlation: row.correlationId })}"
                >${row.correlationId}</a
              >
            </dd>`
        : ''
    }
    ${
      row.streams.length > 0
        ? html`<dt>streams</dt>
            <dd>
              ${row.streams.map((s) => html`<a href="${ctx.base}/aggregates${query({ stream: s })}">${s}</a> `)}
            </dd>`
        : ''
    }
  </dl>`;
}

function rowSection(ctx: PageContext, row: LoggedMessage) {
  return html`<section class="message">
    ${facts(ctx, row)}
    ${
      row.error
        ? html`<h3>Error</h3>
            <pre class="error">
${row.error.name}${row.error.code ? ` (${row.error.code})` : ''}: ${row.error.message}</pre>`
        : ''
    }
    <div class="columns">
      <div>
        <h3>Payload</h3>
        <pre class="json payload">${pretty(row.payload)}</pre>
      </div>
      <div>
        <h3>Metadata</h3>
        <pre class="json">${pretty(row.metadata)}</pre>
      </div>
      ${
        'result' in row
          ? html`<div>
              <h3>Result</h3>
              <pre class="json">${pretty(row.result)}</pre>
            </div>`
          : ''
      }
    </div>
  </section>`;
}

/** One message: its rows in the log and its conversation as a picture. */
export function messagePage(
  ctx: PageContext,
  id: string,
  rows: readonly LoggedMessage[],
  trace: MessageTrace | undefined,
): string {
  const body = html`${
    rows.length === 0
      ? html`<p class="empty">
          The log holds no row with this
          id${trace ? ' (it is an event of the store: its conversation is below)' : ''}.
        </p>`
      : rows.map((row) => rowSection(ctx, row))
  }
  ${
    trace
      ? html`<h2>Correlation tree</h2>
          <p class="trace-summary">
            ${count(trace.messages, 'message')},
            <span class="${trace.failures > 0 ? 'failed-count' : ''}"
              >${count(trace.failures, 'failure')}</span
            >${trace.truncated ? ', truncated to the oldest rows' : ''} ·
            correlation <code>${trace.correlationId}</code> · apps as lanes,
            time downwards; red marks a failure; click a node to open it.
          </p>
          <div class="trace-box">${traceSvg(trace, ctx.base, id)}</div>`
      : ''
  }`;
  return page(ctx, 'messages', rows[0]?.type ?? id, body);
}
