import type { StoredEvent } from '@chronicle/core';
import {
  html,
  page,
  pretty,
  query,
  type Html,
  type PageContext,
} from '../html/index.js';
import type { StateChange } from './state-diff.js';

/** What the timeline shows of one stream. */
export interface AggregateView {
  readonly stream: string;
  readonly type?: string;
  readonly id?: string;
  readonly head: number;
  readonly events: readonly StoredEvent[];
  /** The version the state is shown at, and the one it is compared with. */
  readonly at: number;
  readonly compare?: number;
  /** Undefined when this app has not registered the aggregate's class. */
  readonly state?: unknown;
  readonly changes?: readonly StateChange[];
}

function eventRow(ctx: PageContext, view: AggregateView, event: StoredEvent) {
  const v = event.streamVersion;
  const link = (at: number, compare?: number) =>
    `${ctx.base}/aggregates${query({ stream: view.stream, at: String(at), compare: compare === undefined ? undefined : String(compare) })}`;
  const correlation = event.metadata.correlationId;
  const causation = event.metadata.causationId;
  return html`<tr class="${v === view.at ? 'selected' : ''}" id="v${v}">
    <td class="num">v${v}</td>
    <td><time>${event.timestamp.toISOString()}</time></td>
    <td>${event.type}${event.revision > 1 ? ` r${event.revision}` : ''}</td>
    <td>
      <details>
        <summary>payload</summary>
        <pre class="json payload">${pretty(event.payload)}</pre>
      </details>
      <details>
        <summary>metadata</summary>
        <pre class="json">${pretty(event.metadata)}</pre>
      </details>
    </td>
    <td>
      ${typeof causation === 'string' ? html`<a href="${ctx.base}/messages/${encodeURIComponent(causation)}">cause</a>` : ''}
      ${typeof correlation === 'string' ? html` · <a href="${ctx.base}/messages/${encodeURIComponent(event.id)}">tree</a>` : ''}
    </td>
    <td class="actions-cell">
      <a href="${link(v, v > 1 ? v - 1 : undefined)}" class="at-version"
        >state at v${v}</a
      >
    </td>
  </tr>`;
}

function changeList(changes: readonly StateChange[]): Html {
  if (changes.length === 0) return html`<p class="empty">No difference.</p>`;
  return html`<table class="diff">
    <thead>
      <tr>
        <th>field</th>
        <th>before</th>
        <th>after</th>
      </tr>
    </thead>
    <tbody>
      ${changes.map(
        (c) =>
          html`<tr class="diff-${c.kind}">
            <td><code>${c.path}</code> <em>${c.kind}</em></td>
            <td><pre>${c.kind === 'added' ? '' : pretty(c.before)}</pre></td>
            <td><pre>${c.kind === 'removed' ? '' : pretty(c.after)}</pre></td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function statePanel(ctx: PageContext, view: AggregateView): Html {
  if (view.state === undefined) {
    return html`<p class="notice">
      This app does not register the aggregate
      class${view.type ? html` <code>${view.type}</code>` : ''}, so its state
      cannot be rebuilt here: mount the console in an app that lists it in
      <code>ChronicleModule.forFeature</code>.
    </p>`;
  }
  const versions = Array.from({ length: view.head }, (_, i) => i + 1);
  const options = (selected: number | undefined) =>
    versions.map(
      (v) =>
        html`<option value="${v}" ${v === selected ? html` selected` : ''}>
          v${v}
        </option>`,
    );
  return html`<section class="state">
    <form class="versions" method="get" action="${ctx.base}/aggregates">
      <input type="hidden" name="stream" value="${view.stream}" />
      <label
        >state at
        <select name="at">
          ${options(view.at)}
        </select></label
      >
      <label
        >compared with
        <select name="compare">
          <option value="">(none)</option>
          ${options(view.compare)}
        </select></label
      >
      <button type="submit">Show</button>
    </form>
    <div class="columns">
      <div>
        <h3>State at version ${view.at}</h3>
        <pre class="json state-json">${pretty(view.state)}</pre>
      </div>
      ${
        view.compare !== undefined && view.changes
          ? html`<div>
              <h3>From version ${view.compare} to ${view.at}</h3>
              ${changeList(view.changes)}
            </div>`
          : ''
      }
    </div>
  </section>`;
}

/** An aggregate's timeline: every event with its metadata, its state at a version, a diff. */
export function aggregatePage(
  ctx: PageContext,
  types: readonly string[],
  view: AggregateView | undefined,
  error?: string,
): string {
  const form = html`<form
    class="filters"
    method="get"
    action="${ctx.base}/aggregates"
  >
    <label
      >stream
      <input
        name="stream"
        value="${view?.stream ?? ''}"
        placeholder="orders.Order-o-1"
        list="aggregate-types"
    /></label>
    <datalist id="aggregate-types">
      ${types.map((t) => html`<option value="${t}-"></option>`)}
    </datalist>
    <button type="submit">Open</button>
    <span class="hint"
      >${types.length > 0 ? html`types this app knows: ${types.join(', ')}` : 'this app registers no aggregate class'}</span
    >
  </form>`;
  if (!view) {
    return page(
      ctx,
      'aggregates',
      'Aggregates',
      html`${form}${error ? html`<p class="error" role="alert">${error}</p>` : ''}`,
    );
  }
  const title = view.type ? `${view.type} ${view.id}` : view.stream;
  return page(
    ctx,
    'aggregates',
    title,
    html`${form}
      <p class="trace-summary">
        stream <code>${view.stream}</code>, version
        ${view.head}${view.events.length < view.head ? `, the first ${view.events.length} events shown` : ''}
        ·
        <a href="${ctx.base}/messages${query({ stream: view.stream })}"
          >commands that wrote it</a
        >
      </p>
      ${statePanel(ctx, view)}
      <h2>Events</h2>
      <table class="timeline">
        <thead>
          <tr>
            <th class="num">version</th>
            <th>stored at (UTC)</th>
            <th>type</th>
            <th>data</th>
            <th>log</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${view.events.map((e) => eventRow(ctx, view, e))}
        </tbody>
      </table>`,
  );
}
