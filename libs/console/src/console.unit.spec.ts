import type {
  ConsumerOverview,
  MessageTrace,
  SegmentOverview,
  TraceNode,
} from '@chronicle/core';
import {
  ConsoleOptionsError,
  resolveConsoleOptions,
  type ResolvedConsoleOptions,
} from './console.options.js';
import { axisTop, chartSpan, lagChart } from './pages/lag-chart.js';
import type { ConsoleStore } from './reading/console-store.js';
import { LAG_WINDOW_MS, LagHistory, lagOf } from './reading/lag-history.js';
import { html, raw } from './html/index.js';
import { instantOf, SearchInputError } from './pages/search-form.js';
import { diffStates } from './pages/state-diff.js';
import { traceSvg } from './pages/trace-svg.js';
import { durationText } from './reading/schedule-list.js';

describe('html templates', () => {
  // Called through another name: prettier reflows templates tagged `html`.
  const t = html;
  it('escape every value and join lists, but keep markup made by html or raw', () => {
    const name = `<img src=x onerror="alert('x')">`;
    expect(t`<p title="${name}">${name}</p>`.text).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;</p>',
    );
    expect(t`<ul>${['a', 'b'].map((x) => t`<li>${x}</li>`)}</ul>`.text).toBe(
      '<ul><li>a</li><li>b</li></ul>',
    );
    expect(t`${raw('<br>')}${null}${undefined}${false}${0}`.text).toBe('<br>0');
  });
});

describe('the correlation tree picture', () => {
  const node = (over: Partial<TraceNode>): TraceNode => ({
    kind: 'command',
    id: 'c-1',
    type: 'shop.Place',
    app: 'shop',
    instance: null,
    at: '2026-12-05T10:00:00.000Z',
    offsetMs: 0,
    finishedAt: null,
    durationMs: 3,
    outcome: 'ok',
    error: null,
    children: [],
    ...over,
  });
  it('escapes type names and app names, and marks failures', () => {
    const trace: MessageTrace = {
      correlationId: 'c-1',
      messages: 2,
      failures: 1,
      truncated: false,
      detached: [],
      root: node({
        children: [
          node({
            id: 'c-2',
            type: '<b>Evil</b>',
            app: '<i>app</i>',
            outcome: 'failed',
            offsetMs: 5,
          }),
        ],
      }),
    };
    const svg = traceSvg(trace, '/ops').text;
    expect(svg).toContain('&lt;b&gt;Evil&lt;/b&gt;');
    expect(svg).toContain('&lt;i&gt;app&lt;/i&gt;');
    expect(svg).not.toContain('<b>');
    expect(svg.match(/class="node kind-command failed"/g)).toHaveLength(1);
  });
});

describe('state differences', () => {
  it('name the leaves added, removed and changed', () => {
    expect(
      diffStates(
        { status: 'placed', lines: [{ sku: 'tea', quantity: 1 }], note: 'x' },
        {
          status: 'paid',
          lines: [
            { sku: 'tea', quantity: 2 },
            { sku: 'jam', quantity: 1 },
          ],
          'paid at': 1,
        },
      ),
    ).toEqual([
      { path: 'status', kind: 'changed', before: 'placed', after: 'paid' },
      { path: 'lines[0].quantity', kind: 'changed', before: 1, after: 2 },
      { path: 'lines[1]', kind: 'added', after: { sku: 'jam', quantity: 1 } },
      { path: 'note', kind: 'removed', before: 'x' },
      { path: '["paid at"]', kind: 'added', after: 1 },
    ]);
  });
});

describe('console options', () => {
  it('need a guard, and a path under the root', () => {
    expect(() => resolveConsoleOptions({} as never)).toThrow(
      ConsoleOptionsError,
    );
    expect(() =>
      resolveConsoleOptions({ guard: () => true, path: '/' }),
    ).toThrow(/must start with "\/", name a folder/);
    expect(() =>
      resolveConsoleOptions({ guard: () => true, path: 'ops"><script>' }),
    ).toThrow(ConsoleOptionsError);
    expect(
      resolveConsoleOptions({ guard: () => true, path: '/ops/' }),
    ).toMatchObject({ path: '/ops', adminRole: 'admin', lagSampleMs: 30_000 });
  });
  it('sample lag at most once a second', () => {
    expect(() =>
      resolveConsoleOptions({ guard: () => true, lagSampleMs: 10 }),
    ).toThrow(
      /lagSampleMs 10 must be a whole number of milliseconds, at least 1000/,
    );
  });
});

describe('the lag history', () => {
  const segment = (lagEvents: number, lagSeconds: number) =>
    ({ lagEvents, lagSeconds }) as SegmentOverview;
  const consumer = (name: string, ...segments: SegmentOverview[]) =>
    ({ consumer: name, segments }) as unknown as ConsumerOverview;

  it('sums the events behind over segments and keeps the oldest age', () => {
    const points = lagOf(
      [consumer('a', segment(3, 10), segment(4, 25)), consumer('b')],
      7,
    );
    expect(points.get('a')).toEqual({ at: 7, events: 7, seconds: 25 });
    expect(points.get('b')).toEqual({ at: 7, events: 0, seconds: 0 });
  });

  it('keeps one hour of samples, whatever the interval', () => {
    const history = new LagHistory(
      {} as ConsoleStore,
      {
        lagSampleMs: 60_000,
      } as ResolvedConsoleOptions,
    );
    const start = Date.parse('2026-12-05T10:00:00Z');
    for (let i = 0; i <= 120; i++)
      history.record([consumer('a', segment(i, 0))], start + i * 60_000);
    const now = start + 120 * 60_000;
    const points = history.series(now).get('a')!;
    expect(points).toHaveLength(61);
    expect(points[0]).toMatchObject({ at: now - LAG_WINDOW_MS, events: 60 });
    expect(points.at(-1)).toMatchObject({ at: now, events: 120 });
    expect(history.since).toBe(start);
  });

  it('draws a line per series on round axes, escaping the consumer name', () => {
    expect([axisTop(0), axisTop(7), axisTop(12), axisTop(480)]).toEqual([
      1, 10, 20, 500,
    ]);
    const now = Date.parse('2026-12-05T11:00:00Z');
    const svg = lagChart(
      '<b>',
      [
        { at: now - LAG_WINDOW_MS, events: 10, seconds: 0 },
        { at: now, events: 0, seconds: 5 },
      ],
      now,
    ).text;
    expect(svg).toContain('data-consumer="&lt;b&gt;"');
    expect(svg).not.toContain('<b>');
    // From the left edge at the top of the axis to the right edge at zero.
    expect(svg).toMatch(
      /class="lag-events"\s+points="48\.0,10\.0 512\.0,98\.0"/,
    );
    expect(svg).toContain('−1h');
  });

  it('spans the samples kept, between a minute and an hour', () => {
    const now = Date.parse('2026-12-05T11:00:00Z');
    expect(chartSpan(now, undefined)).toBe(60_000);
    expect(chartSpan(now, now - 5_000)).toBe(60_000);
    expect(chartSpan(now, now - 600_000)).toBe(600_000);
    expect(chartSpan(now, now - 7_200_000)).toBe(LAG_WINDOW_MS);
    const svg = lagChart(
      'a',
      [{ at: now - 600_000, events: 1, seconds: 1 }],
      now,
      600_000,
    ).text;
    expect(svg).toContain('−10m');
    expect(svg).toContain('−5m');
  });
});

describe('search instants and periods', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  it('read times ago and dates, UTC unless a zone is given', () => {
    expect(instantOf('2h', 'since', now).toISOString()).toBe(
      '2026-12-05T08:00:00.000Z',
    );
    expect(instantOf('2026-12-05T09:30', 'since', now).toISOString()).toBe(
      '2026-12-05T09:30:00.000Z',
    );
    expect(
      instantOf('2026-12-05T09:30+01:00', 'since', now).toISOString(),
    ).toBe('2026-12-05T08:30:00.000Z');
    expect(() => instantOf('soon', 'until', now)).toThrow(SearchInputError);
  });
  it('print periods as people write them', () => {
    expect(durationText(3_600_000)).toBe('1h');
    expect(durationText(5_400_000)).toBe('1h 30m');
    expect(durationText(250)).toBe('250ms');
  });
});
