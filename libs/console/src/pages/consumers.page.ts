import type {
  ConsumerOverview,
  DeadLetterList,
  RebuildOverview,
  SegmentOverview,
} from '@chronicle/core';
import {
  html,
  page,
  query,
  type Html,
  type PageContext,
} from '../html/index.js';
import { durationText } from '../reading/schedule-list.js';
import type { LagPoint } from '../reading/lag-history.js';
import { actionButton } from './action-form.js';
import { chartSpan, lagChart } from './lag-chart.js';

/** The console process's lag samples, as the page draws them. */
export interface LagView {
  readonly series: ReadonlyMap<string, readonly LagPoint[]>;
  readonly now: number;
  /** When this process took its first sample; undefined before. */
  readonly since?: number;
  readonly sampleMs: number;
}

/** `1 segment`, `2 segments`. */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function segmentRow(segment: SegmentOverview): Html {
  return html`<tr class="status-${segment.status}">
    <td class="num">${segment.segment}</td>
    <td><span class="status">${segment.status}</span></td>
    <td>${segment.owner ?? '—'}</td>
    <td class="num">${segment.checkpoint.position.toString()}</td>
    <td class="num">${segment.lagEvents}</td>
    <td class="num">${segment.lagSeconds} s</td>
    <td class="error-text">${segment.lastError ?? ''}</td>
  </tr>`;
}

function parkedSection(ctx: PageContext, letters: DeadLetterList): Html | '' {
  if (letters.parked.length === 0 && letters.skipped.length === 0) return '';
  const consumer = letters.consumer;
  return html`<div class="dead-letters">
    ${
      letters.parked.length > 0
        ? html`<h3>
              Parked streams
              ${actionButton(ctx, 'retry', 'Retry all', { consumer })}
            </h3>
            <table>
              <thead>
                <tr>
                  <th>stream</th>
                  <th>first parked event</th>
                  <th>events</th>
                  <th>attempts</th>
                  <th>error</th>
                  <th>parked at</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${letters.parked.map(
                  (p) =>
                    html`<tr class="parked">
                      <td>
                        <a
                          href="${ctx.base}/aggregates${query({ stream: p.stream })}"
                          >${p.stream}</a
                        >
                      </td>
                      <td>
                        <a
                          href="${ctx.base}/messages/${encodeURIComponent(p.firstEvent.id)}"
                          >${p.firstEvent.type}
                          v${p.firstEvent.streamVersion}</a
                        >
                      </td>
                      <td class="num">${p.events}</td>
                      <td class="num">${p.attempts}</td>
                      <td class="error-text">${p.error}</td>
                      <td>
                        <time>${p.parkedAt.toISOString()}</time
                        >${p.retryRequestedAt ? ' (retry asked)' : ''}
                      </td>
                      <td class="actions-cell">
                        ${actionButton(ctx, 'retry', 'Retry', { consumer, stream: p.stream })}
                        ${actionButton(ctx, 'drop', 'Drop', { consumer, stream: p.stream }, `Drop the ${p.events} parked events of ${p.stream}? They will never be handled.`)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
    ${
      letters.skipped.length > 0
        ? html`<h3>Skipped events</h3>
            <table>
              <thead>
                <tr>
                  <th>stream</th>
                  <th>event</th>
                  <th>attempts</th>
                  <th>error</th>
                  <th>failed at</th>
                </tr>
              </thead>
              <tbody>
                ${letters.skipped.map(
                  (s) =>
                    html`<tr>
                      <td>${s.stream}</td>
                      <td>
                        <a
                          href="${ctx.base}/messages/${encodeURIComponent(s.event.id)}"
                          >${s.event.type}</a
                        >
                      </td>
                      <td class="num">${s.attempts}</td>
                      <td class="error-text">${s.error}</td>
                      <td><time>${s.failedAt.toISOString()}</time></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }
  </div>`;
}

function consumerSection(
  ctx: PageContext,
  lag: LagView,
  consumer: ConsumerOverview,
  letters: DeadLetterList | undefined,
  rebuild: RebuildOverview | undefined,
): Html {
  const stopped = consumer.segments.filter(
    (s) => s.status === 'stopped',
  ).length;
  const behind = consumer.segments.reduce((sum, s) => sum + s.lagEvents, 0);
  const percent =
    rebuild && rebuild.total > 0
      ? Math.floor((rebuild.done / rebuild.total) * 100)
      : 100;
  return html`<section
    class="consumer${stopped > 0 || consumer.parkedStreams > 0 ? ' troubled' : ''}"
    id="${consumer.consumer}"
  >
    <h2>
      ${consumer.consumer}${consumer.version ? html` <span class="badge">v${consumer.version.version} ${consumer.version.status}</span>` : ''}
    </h2>
    <p class="summary">
      ${count(consumer.segments.length, 'segment')} · lag
      ${count(behind, 'event')}${stopped > 0 ? html` · <strong class="failed-count">${stopped} stopped</strong>` : ''}
      · ${consumer.deadLetters} skipped ·
      <span class="${consumer.parkedStreams > 0 ? 'failed-count' : ''}"
        >${count(consumer.parkedStreams, 'parked stream')}
        (${count(consumer.parkedEvents, 'event')})</span
      >${consumer.replayPending ? ' · replay asked, not applied yet' : ''}
    </p>
    ${lagChart(consumer.consumer, lag.series.get(consumer.consumer) ?? [], lag.now, chartSpan(lag.now, lag.since))}
    ${rebuild ? html`<p class="rebuild">rebuilding v${rebuild.version}: <progress max="${rebuild.total}" value="${rebuild.done}"></progress> ${percent}% (${rebuild.done} of ${rebuild.total} events)</p>` : ''}
    <table class="segments">
      <thead>
        <tr>
          <th class="num">segment</th>
          <th>status</th>
          <th>owner</th>
          <th class="num">position</th>
          <th class="num">lag (events)</th>
          <th class="num">lag (age)</th>
          <th>last error</th>
        </tr>
      </thead>
      <tbody>
        ${consumer.segments.map(segmentRow)}
      </tbody>
    </table>
    ${letters ? parkedSection(ctx, letters) : ''}
  </section>`;
}

/** Every consumer of the store: segments, owners, lag, stopped segments, dead letters, rebuilds. */
export function consumersPage(
  ctx: PageContext,
  consumers: readonly ConsumerOverview[],
  letters: ReadonlyMap<string, DeadLetterList>,
  rebuilds: readonly RebuildOverview[],
  lag: LagView,
): string {
  return page(
    ctx,
    'consumers',
    'Consumers',
    consumers.length === 0
      ? html`<p class="empty">
          No consumer has stored a position in this store yet.
        </p>`
      : html`<p class="lag-note">
            Lag over the last hour: sampled every ${durationText(lag.sampleMs)}
            by this console
            process${
              lag.since
                ? html` since <time>${new Date(lag.since).toISOString()}</time>`
                : ''
            },
            kept in its memory only (Prometheus keeps the long history).
          </p>
          ${consumers.map((c) =>
            consumerSection(
              ctx,
              lag,
              c,
              letters.get(c.consumer),
              rebuilds.find((r) =>
                c.version
                  ? r.consumer === c.version.consumer &&
                    r.version === c.version.version
                  : false,
              ),
            ),
          )}`,
  );
}
