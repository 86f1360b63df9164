import { performance } from 'node:perf_hooks';
import { median, percentile } from './stats.js';

/** One unit of work of a contender: one append, one load, one command... */
export type Operation = () => Promise<unknown>;

/** Chronicle or one of its baselines, doing the same work its own way. */
export interface Contender {
  readonly name: string;
  readonly op: Operation;
  /**
   * Sets up process-wide state this contender runs under (a global
   * OpenTelemetry SDK registered or removed), before its warm-up and before
   * each of its rounds, since the contenders take turns in one process.
   */
  readonly before?: () => void;
}

/** What one round of one contender measured. */
export interface RoundResult {
  readonly ops: number;
  readonly elapsedMs: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /**
   * This process's CPU time (user + system, every thread) per operation:
   * steadier than throughput when other processes share the cores.
   */
  readonly cpuMsPerOp: number;
  /**
   * The database server's CPU time per operation, over the backends of the
   * bench's own pool (NaN when not measured): see `CompareOptions.serverCpuMs`.
   */
  readonly serverCpuMsPerOp: number;
}

/** The medians over the rounds of one contender. */
export interface Summary {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMsPerOp: number;
  /** Over all rounds together (total / operations): see `RoundResult.serverCpuMsPerOp`. */
  readonly serverCpuMsPerOp: number;
  readonly rounds: readonly RoundResult[];
}

export interface CompareOptions {
  /** How many operations run at once (workers pulling from one counter). */
  readonly concurrency: number;
  /** Rounds per contender; medians are reported. */
  readonly rounds: number;
  /** Warm-up per contender, in seconds; it also sizes the rounds. */
  readonly warmupSeconds: number;
  /** About how long the slowest contender's round should last, in seconds. */
  readonly roundSeconds: number;
  /** Fewest operations per round, however slow the contenders are. */
  readonly minOps?: number;
  /**
   * The CPU time the database's backends serving this process have used so
   * far, in ms (see `BenchDatabase.serverCpuMs`): read around each round, so
   * that rounds also report the server's CPU per operation.
   */
  readonly serverCpuMs?: () => Promise<number>;
}

/** Runs `count` operations (or until `untilMs`), `concurrency` at a time. */
async function runOps(
  op: Operation,
  concurrency: number,
  limit: { count: number } | { untilMs: number },
  serverCpuMs?: () => Promise<number>,
): Promise<RoundResult> {
  const latencies: number[] = [];
  let started = 0;
  const more =
    'count' in limit
      ? () => started < limit.count
      : () => performance.now() < limit.untilMs;
  const worker = async (): Promise<void> => {
    while (more()) {
      started++;
      const t0 = performance.now();
      await op();
      latencies.push(performance.now() - t0);
    }
  };
  const server0 = serverCpuMs ? await serverCpuMs() : NaN;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverCpuMs ? await serverCpuMs() : NaN;
  return {
    cpuMsPerOp: (cpu.user + cpu.system) / 1000 / latencies.length,
    serverCpuMsPerOp: (server1 - server0) / latencies.length,
    ops: latencies.length,
    elapsedMs,
    opsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Warms every contender up for the same time, then runs rounds in which each
 * contender does the SAME number of operations (sized from the slowest
 * contender's warm-up rate), rotating who goes first each round so that no one
 * always runs on a warmer or colder machine. Returns medians per contender.
 */
export async function compare(
  contenders: readonly Contender[],
  options: CompareOptions,
): Promise<Map<string, Summary>> {
  let slowest = Infinity;
  for (const contender of contenders) {
    contender.before?.();
    const warm = await runOps(contender.op, options.concurrency, {
      untilMs: performance.now() + options.warmupSeconds * 1000,
    });
    slowest = Math.min(slowest, warm.opsPerSecond);
  }
  const count = Math.max(
    options.minOps ?? options.concurrency,
    options.concurrency,
    Math.round(slowest * options.roundSeconds),
  );
  const rounds = new Map<string, RoundResult[]>(
    contenders.map((c) => [c.name, []]),
  );
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length];
      contender.before?.();
      const result = await runOps(
        contender.op,
        options.concurrency,
        { count },
        options.serverCpuMs,
      );
      rounds.get(contender.name)?.push(result);
    }
  }
  const summaries = new Map<string, Summary>();
  for (const [name, results] of rounds) {
    summaries.set(name, {
      opsPerSecond: median(results.map((r) => r.opsPerSecond)),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      cpuMsPerOp: median(results.map((r) => r.cpuMsPerOp)),
      // Summed over the rounds, not a median: the server's CPU comes in
      // ticks of 10 ms, coarse against one short round.
      serverCpuMsPerOp:
        results.reduce((sum, r) => sum + r.serverCpuMsPerOp * r.ops, 0) /
        results.reduce((sum, r) => sum + r.ops, 0),
      rounds: results,
    });
  }
  return summaries;
}

/** The summary of a contender that `compare` ran. */
export function summaryOf(
  summaries: ReadonlyMap<string, Summary>,
  name: string,
): Summary {
  const summary = summaries.get(name);
  if (!summary) throw new Error(`No measurements for "${name}"`);
  return summary;
}
