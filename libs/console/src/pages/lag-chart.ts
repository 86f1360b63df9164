import { html, type Html } from '../html/index.js';
import { LAG_WINDOW_MS, type LagPoint } from '../reading/lag-history.js';
import { durationText } from '../reading/schedule-list.js';

/** The shortest span a chart shows, so a console started seconds ago still draws a line. */
export const MIN_SPAN_MS = 60_000;

/**
 * The span the charts show: from the first sample to now, between a minute and
 * the hour kept (a console that started ten minutes ago has ten minutes to show).
 */
export function chartSpan(now: number, since: number | undefined): number {
  const kept = since === undefined ? 0 : now - since;
  return Math.min(LAG_WINDOW_MS, Math.max(MIN_SPAN_MS, kept));
}

const WIDTH = 560;
const HEIGHT = 120;
const PAD = { left: 48, right: 48, top: 10, bottom: 22 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

/** A round top for an axis: 1, 2, 5, 10, 20, 50... at or above `max`. */
export function axisTop(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

interface Span {
  readonly now: number;
  readonly ms: number;
}

const x = (at: number, span: Span) =>
  PAD.left + ((at - (span.now - span.ms)) / span.ms) * PLOT_W;
const y = (value: number, top: number) =>
  PAD.top + PLOT_H - (value / top) * PLOT_H;

function line(
  points: readonly LagPoint[],
  span: Span,
  value: (p: LagPoint) => number,
  top: number,
): string {
  return points
    .map((p) => `${x(p.at, span).toFixed(1)},${y(value(p), top).toFixed(1)}`)
    .join(' ');
}

/**
 * One consumer's lag as SVG: events behind (solid, left axis) and the age of
 * the oldest unread event (dashed, right axis), from `spanMs` ago (left, at
 * most an hour: see `chartSpan`) to now (right).
 */
export function lagChart(
  consumer: string,
  points: readonly LagPoint[],
  now: number,
  spanMs: number = LAG_WINDOW_MS,
): Html {
  const span = { now, ms: spanMs };
  const shown = points.filter((p) => p.at >= now - spanMs);
  const events = axisTop(Math.max(0, ...shown.map((p) => p.events)));
  const seconds = axisTop(Math.max(0, ...shown.map((p) => p.seconds)));
  const last = shown.at(-1);
  const bottom = PAD.top + PLOT_H;
  const right = PAD.left + PLOT_W;
  return html`<figure class="lag">
    <svg
      class="lag-chart"
      data-consumer="${consumer}"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      width="${WIDTH}"
      height="${HEIGHT}"
      role="img"
      aria-label="Lag of ${consumer} over the last ${durationText(spanMs)}"
    >
      <title>Lag of ${consumer} over the last ${durationText(spanMs)}</title>
      <rect
        class="plot"
        x="${PAD.left}"
        y="${PAD.top}"
        width="${PLOT_W}"
        height="${PLOT_H}"
      ></rect>
      <line
        class="grid"
        x1="${PAD.left}"
        x2="${right}"
        y1="${PAD.top + PLOT_H / 2}"
        y2="${PAD.top + PLOT_H / 2}"
      ></line>
      <text
        class="axis"
        x="${PAD.left - 6}"
        y="${PAD.top + 4}"
        text-anchor="end"
      >
        ${events}
      </text>
      <text class="axis" x="${PAD.left - 6}" y="${bottom}" text-anchor="end">
        0
      </text>
      <text class="axis age" x="${right + 6}" y="${PAD.top + 4}">
        ${seconds} s
      </text>
      <text class="axis age" x="${right + 6}" y="${bottom}">0 s</text>
      <text class="axis" x="${PAD.left}" y="${HEIGHT - 6}">
        −${durationText(spanMs)}
      </text>
      <text
        class="axis"
        x="${PAD.left + PLOT_W / 2}"
        y="${HEIGHT - 6}"
        text-anchor="middle"
      >
        −${durationText(spanMs / 2)}
      </text>
      <text class="axis" x="${right}" y="${HEIGHT - 6}" text-anchor="end">
        now
      </text>
      ${
        shown.length > 0
          ? html`<polyline
                class="lag-age"
                points="${line(shown, span, (p) => p.seconds, seconds)}"
              ></polyline>
              <polyline
                class="lag-events"
                points="${line(shown, span, (p) => p.events, events)}"
              ></polyline>`
          : ''
      }
      ${
        last
          ? html`<circle
              class="lag-events"
              cx="${x(last.at, span).toFixed(1)}"
              cy="${y(last.events, events).toFixed(1)}"
              r="2.5"
              ><title>
                ${last.events} events behind, oldest ${last.seconds} s old
              </title></circle
            >`
          : ''
      }
    </svg>
    <figcaption>
      <span class="key-events">events behind</span>
      <span class="key-age">age of the oldest unread event</span>
    </figcaption>
  </figure>`;
}
