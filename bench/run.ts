import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { appendBenchmark } from './benchmarks/append.js';
import type { Benchmark, Settings } from './benchmarks/benchmark.js';
import { commandsBenchmark } from './benchmarks/commands.js';
import { dispatchBenchmark } from './benchmarks/dispatch.js';
import { documentsBenchmark } from './benchmarks/documents.js';
import { observabilityBenchmark } from './benchmarks/observability.js';
import { messageLogBenchmark } from './benchmarks/message-log.js';
import { messageLogSearchBenchmark } from './benchmarks/message-log-search.js';
import { rehydrateBenchmark } from './benchmarks/rehydrate.js';
import { transportBenchmark } from './benchmarks/transport.js';
import { snapshotsBenchmark } from './benchmarks/snapshots.js';
import { trackingBenchmark } from './benchmarks/tracking.js';
import { schedulesBenchmark } from './benchmarks/schedules.js';
import { processesBenchmark } from './benchmarks/processes.js';
import { securityBenchmark } from './benchmarks/security.js';
import { gatewayBenchmark } from './benchmarks/gateway.js';
import { BenchDatabase, DATABASE_URL, POOL_SIZE } from './support/database.js';
import { printTable, writeResult } from './support/report.js';
import { scalingPoints, writeCharts } from './support/charts.js';
import { cpus } from 'node:os';
import { relative } from 'node:path';

// `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME...]` runs those;
// `--quick` asks the benchmarks that size themselves for a smaller smoke run.

const BENCHMARKS: readonly Benchmark[] = [
  appendBenchmark,
  rehydrateBenchmark,
  commandsBenchmark,
  dispatchBenchmark,
  transportBenchmark,
  snapshotsBenchmark,
  trackingBenchmark,
  schedulesBenchmark,
  processesBenchmark,
  observabilityBenchmark,
  messageLogBenchmark,
  messageLogSearchBenchmark,
  securityBenchmark,
  gatewayBenchmark,
  documentsBenchmark,
];

const SETTINGS: Settings = {
  rounds: 5,
  warmupSeconds: 0.5,
  roundSeconds: 1,
};

/** A mistake on the command line: reported without a stack. */
class UsageError extends Error {}

function chosen(names: readonly string[]): readonly Benchmark[] {
  if (names.length === 0) return BENCHMARKS;
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown benchmark ${unknown.join(', ')}; choose from: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
  }
  return BENCHMARKS.filter((b) => names.includes(b.name));
}

async function header(): Promise<void> {
  const db = new BenchDatabase();
  try {
    const server = await db.serverVersion();
    const host = new URL(DATABASE_URL).host;
    console.log(
      `Chronicle benchmarks: node ${process.version}, PostgreSQL ${server} at ${host}, pool ${POOL_SIZE}; ` +
        `${SETTINGS.warmupSeconds}s warm-up then ${SETTINGS.rounds} rounds per contender, alternating; medians`,
    );
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const benchmarks = chosen(args.filter((a) => a !== '--quick'));
  await header();
  const t0 = performance.now();
  for (const benchmark of benchmarks) {
    const started = performance.now();
    const outcome = await benchmark.run({ ...SETTINGS, quick });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    printTable(
      `${benchmark.name}: ${benchmark.description} (${seconds}s)`,
      outcome.rows,
    );
    for (const note of outcome.notes ?? []) console.log(`  ${note}`);
    const file = await writeResult(benchmark.name, outcome.rows);
    console.log(`  wrote ${file}`);
  }
  // Charts and scaling tables come from every results file, so a run of one
  // benchmark redraws its chart beside the others' last figures.
  const stamp =
    `Drawn by \`npm run bench\` from bench/results/*.json at ${new Date().toISOString().slice(0, 16)}Z; ` +
    `Node ${process.version}, ${cpus().length} cores.`;
  for (const file of await writeCharts(await scalingPoints(), stamp)) {
    console.log(`  drew ${relative(process.cwd(), file)}`);
  }
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`\nDone in ${total}s.`);
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) console.error(error.message);
  else
    console.error(
      error instanceof Error ? (error.stack ?? error.message) : error,
    );
  process.exitCode = 1;
}
