import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Unit = 'ops/s' | 'events/s' | 'instances/s' | 'ms';

/** One line of a benchmark's results, as BENCH.md specifies it. */
export interface Row {
  readonly case: string;
  readonly unit: Unit;
  readonly higherIsBetter: boolean;
  readonly chronicle: number;
  readonly baseline?: { readonly name: string; readonly value: number };
  readonly ratio?: number;
  /** Where this row sits on a scaling chart (`support/charts.ts`), if it is one of its points. */
  readonly scale?: Scale;
}

/** A point on a scaling chart: the chart's key and this row's x value (callers, events...). */
export interface Scale {
  readonly chart: string;
  readonly x: number;
}

/** What a benchmark file writes: BENCH.md's JSON document. */
export interface BenchResult {
  readonly bench: string;
  readonly at: string;
  readonly node: string;
  readonly rows: readonly Row[];
}

/** Rounds a figure for reading: 3 decimals for ms, whole numbers for rates. */
function rounded(value: number, unit: Unit): number {
  if (unit === 'ms') return Math.round(value * 1000) / 1000;
  return value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}

/**
 * A result row. The ratio is chronicle / baseline when higher is better and
 * baseline / chronicle when lower is better, so 1.0 is "as good as the
 * baseline" either way; it is computed before rounding.
 */
export function row(
  caseName: string,
  unit: Unit,
  chronicle: number,
  baseline?: { name: string; value: number },
  scale?: Scale,
): Row {
  const higherIsBetter = unit !== 'ms';
  const base: Row = {
    case: caseName,
    unit,
    higherIsBetter,
    chronicle: rounded(chronicle, unit),
    ...(scale ? { scale } : {}),
  };
  if (!baseline) return base;
  const ratio = higherIsBetter
    ? chronicle / baseline.value
    : baseline.value / chronicle;
  return {
    ...base,
    baseline: { name: baseline.name, value: rounded(baseline.value, unit) },
    ratio: Math.round(ratio * 100) / 100,
  };
}

function figure(value: number, unit: Unit): string {
  const text =
    unit === 'ms'
      ? value.toFixed(value < 10 ? 3 : 1)
      : value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return `${text} ${unit}`;
}

/** Prints rows as an aligned table: case, Chronicle, baseline, its figure, ratio. */
export function printTable(title: string, rows: readonly Row[]): void {
  const header = ['case', 'Chronicle', 'baseline', 'baseline figure', 'ratio'];
  const lines = rows.map((r) => [
    r.case,
    figure(r.chronicle, r.unit),
    r.baseline?.name ?? '-',
    r.baseline ? figure(r.baseline.value, r.unit) : '-',
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i].length)),
  );
  // Figures read best right-aligned; names left-aligned.
  const right = [false, true, false, true, true];
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
      )
      .join(' | ');
  console.log(`\n${title}`);
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const line of lines) console.log(format(line));
}

/** `bench/results/`, beside `bench/dist/` where this file runs from. */
export const RESULTS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'results',
);

/** Writes `bench/results/NAME.json`, creating the folder if needed. */
export async function writeResult(
  bench: string,
  rows: readonly Row[],
): Promise<string> {
  const result: BenchResult = {
    bench,
    at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    node: process.version,
    rows,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${bench}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
