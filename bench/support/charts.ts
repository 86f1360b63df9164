import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, type BenchResult, type Row } from './report.js';

/**
 * Scaling charts: rows tagged with `scale` (a chart's key and an x value) are
 * drawn as SVG line charts, Chronicle beside its baseline, and listed as
 * tables in `docs/benchmarks.md`, both from `bench/results/*.json`, so no
 * figure in the docs is drawn or typed by hand.
 */
export interface ChartSpec {
  readonly key: string;
  readonly title: string;
  /** What x counts: "concurrent callers", "events in the stream". */
  readonly xLabel: string;
  /** A log y axis, for figures that grow with x by orders of magnitude (time per load). */
  readonly yLog?: boolean;
}

/** The charts the benchmarks feed; a row naming another key is an error. */
export const CHARTS: readonly ChartSpec[] = [
  {
    key: 'append-callers',
    title: 'Append 1 event: throughput by concurrent callers',
    xLabel: 'concurrent callers',
  },
  {
    key: 'rehydrate-events',
    title: 'Load an aggregate: time per load by stream length',
    xLabel: 'events in the stream',
    yLog: true,
  },
];

// This file runs from bench/dist/support/.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where the charts go, next to the page that shows them. */
export const CHARTS_DIR = join(ROOT, 'docs', 'benchmarks');
export const BENCHMARKS_PAGE = join(ROOT, 'docs', 'benchmarks.md');

interface Point {
  readonly x: number;
  readonly row: Row;
}

/** Every tagged row of every results file, by chart key, in x order. */
export async function scalingPoints(
  resultsDir = RESULTS_DIR,
): Promise<Map<string, Point[]>> {
  const byChart = new Map<string, Point[]>();
  let files: string[];
  try {
    files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return byChart;
  }
  for (const file of files.sort()) {
    const result = JSON.parse(
      await readFile(join(resultsDir, file), 'utf8'),
    ) as BenchResult;
    for (const row of result.rows) {
      if (!row.scale) continue;
      if (!CHARTS.some((c) => c.key === row.scale!.chart)) {
        throw new Error(
          `${file}: row "${row.case}" names chart "${row.scale.chart}", which charts.ts does not define`,
        );
      }
      const points = byChart.get(row.scale.chart) ?? [];
      points.push({ x: row.scale.x, row });
      byChart.set(row.scale.chart, points);
    }
  }
  for (const points of byChart.values()) points.sort((a, b) => a.x - b.x);
  return byChart;
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 84, right: 24, top: 52, bottom: 64 };
const COLORS = { chronicle: '#2563eb', baseline: '#9ca3af' };

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function compact(value: number): string {
  if (value >= 1_000_000) return `${+(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  if (value >= 10) return String(Math.round(value));
  return String(+value.toFixed(2));
}

/** Round tick steps (1, 2, 5 x 10^n) covering 0..max in about five steps. */
function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step =
    [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
  const out: number[] = [];
  for (let t = 0; t <= max * 1.0001 + step; t += step) {
    out.push(t);
    if (t >= max) break;
  }
  return out;
}

/** Ticks at 1, 2 and 5 times the powers of ten that span min..max. */
function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const low = Math.floor(Math.log10(min));
  const high = Math.ceil(Math.log10(max));
  for (let p = low; p <= high; p++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** p;
      if (t >= min / 1.0001 && t <= max * 1.0001) out.push(t);
    }
  }
  return out;
}

/** A line chart: x on a log scale (the points are powers apart), y from zero or on a log scale. */
export function svgChart(spec: ChartSpec, points: readonly Point[]): string {
  const unit = points[0]?.row.unit ?? 'ops/s';
  const baselineName = points.find((p) => p.row.baseline)?.row.baseline?.name;
  const values = points.flatMap((p) => [
    p.row.chronicle,
    p.row.baseline?.value ?? 0,
  ]);
  const positive = values.filter((v) => v > 0);
  const yLow = spec.yLog
    ? 10 ** Math.floor(Math.log10(Math.min(...positive)))
    : 0;
  const yHigh = spec.yLog
    ? 10 ** Math.ceil(Math.log10(Math.max(...positive)))
    : 0;
  const yTicks = spec.yLog
    ? logTicks(yLow, yHigh)
    : ticks(Math.max(...values, 1));
  const yMax = spec.yLog ? yHigh : yTicks[yTicks.length - 1];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = points.map((p) => Math.log10(p.x));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const px = (x: number) =>
    MARGIN.left +
    (xMax === xMin
      ? plotW / 2
      : ((Math.log10(x) - xMin) / (xMax - xMin)) * plotW);
  const py = (y: number) =>
    MARGIN.top +
    plotH -
    (spec.yLog
      ? (Math.log10(y) - Math.log10(yLow)) /
        (Math.log10(yMax) - Math.log10(yLow))
      : y / yMax) *
      plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(spec.title)}</text>`,
    `<text x="${WIDTH / 2}" y="38" text-anchor="middle" fill="#6b7280">${points[0]?.row.higherIsBetter === false ? 'lower is better' : 'higher is better'}</text>`,
  );
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#374151">${compact(t)}</text>`,
    );
  }
  for (const p of points) {
    const x = px(p.x).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}" stroke="#374151"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" fill="#374151">${compact(p.x)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#374151"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 22}" text-anchor="middle" fill="#111827">${escapeXml(spec.xLabel)} (log scale)</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#111827">${escapeXml(spec.yLog ? `${unit} (log scale)` : unit)}</text>`,
  );
  const series = (
    pick: (p: Point) => number | undefined,
    color: string,
    dashed: boolean,
  ) => {
    const drawn = points.filter((p) => pick(p) !== undefined);
    if (drawn.length === 0) return;
    const path = drawn
      .map((p) => `${px(p.x).toFixed(1)},${py(pick(p)!).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2.5"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const p of drawn) {
      parts.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(pick(p)!).toFixed(1)}" r="4" fill="${color}"><title>${escapeXml(`${compact(p.x)}: ${compact(pick(p)!)} ${unit}`)}</title></circle>`,
      );
    }
  };
  series((p) => p.row.baseline?.value, COLORS.baseline, true);
  series((p) => p.row.chronicle, COLORS.chronicle, false);
  const legendY = HEIGHT - 6;
  const legend: [string, string, boolean][] = [
    ['Chronicle', COLORS.chronicle, false],
  ];
  if (baselineName) legend.push([baselineName, COLORS.baseline, true]);
  let lx = MARGIN.left;
  for (const [name, color, dashed] of legend) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2.5"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 30}" y="${legendY}" fill="#111827">${escapeXml(name)}</text>`,
    );
    lx += 40 + name.length * 7;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function figure(value: number, unit: string): string {
  return `${value.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${unit}`;
}

/** The markdown table of one chart's points. */
export function markdownTable(
  spec: ChartSpec,
  points: readonly Point[],
): string {
  const lines = [
    `| ${spec.xLabel} | case | Chronicle | baseline | ratio |`,
    '| ---: | --- | ---: | --- | ---: |',
  ];
  for (const { x, row } of points) {
    const baseline = row.baseline
      ? `${row.baseline.name}: ${figure(row.baseline.value, row.unit)}`
      : '-';
    const ratio = row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`;
    lines.push(
      `| ${x.toLocaleString('en-US')} | ${row.case} | ${figure(row.chronicle, row.unit)} | ${baseline} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Writes `docs/benchmarks/<chart>.svg` for every chart with points and puts
 * its table between `<!-- scaling:<chart> -->` and `<!-- /scaling:<chart> -->`
 * in docs/benchmarks.md. Returns the files written.
 */
export async function writeCharts(
  points: Map<string, Point[]>,
  stamp: string,
): Promise<string[]> {
  const written: string[] = [];
  await mkdir(CHARTS_DIR, { recursive: true });
  let page: string | undefined;
  try {
    page = await readFile(BENCHMARKS_PAGE, 'utf8');
  } catch {
    page = undefined;
  }
  for (const spec of CHARTS) {
    const chartPoints = points.get(spec.key);
    if (!chartPoints || chartPoints.length === 0) continue;
    const file = join(CHARTS_DIR, `${spec.key}.svg`);
    await writeFile(file, svgChart(spec, chartPoints));
    written.push(file);
    if (page === undefined) continue;
    const open = `<!-- scaling:${spec.key} -->`;
    const close = `<!-- /scaling:${spec.key} -->`;
    const start = page.indexOf(open);
    const end = page.indexOf(close);
    if (start < 0 || end < start) continue;
    page =
      page.slice(0, start + open.length) +
      `\n${markdownTable(spec, chartPoints)}\n\n_${stamp}_\n` +
      page.slice(end);
  }
  if (page !== undefined) {
    await writeFile(BENCHMARKS_PAGE, page);
    written.push(BENCHMARKS_PAGE);
  }
  return written;
}
