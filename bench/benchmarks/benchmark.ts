import type { CompareOptions } from '../support/measure.js';
import type { Row } from '../support/report.js';

/** How long to warm up and measure; every benchmark gets the same. */
export type Settings = Omit<CompareOptions, 'concurrency'> & {
  /** `--quick`: a smaller run to see that it works, for benchmarks that size themselves. */
  readonly quick?: boolean;
};

/** What a benchmark found: its rows, and any notes to print under its table. */
export interface BenchOutcome {
  readonly rows: readonly Row[];
  readonly notes?: readonly string[];
}

/** One benchmark, run by `npm run bench -- NAME`. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(settings: Settings): Promise<BenchOutcome>;
}
