import {
  Counter,
  Histogram,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';

/*
 * prom-client hashes the label object of every `inc` and `observe` into a
 * string and looks it up (about 300 ns each, `labels()` children included).
 * Chronicle records three of them per message handled, with label sets fixed
 * per handler and type, so its hot instruments hand out a series object per
 * label set, found once and kept by the caller: recording is then a few
 * additions. What they show on a scrape is unchanged.
 */

/** A label set as one map key, in the instrument's label order. */
function keyOf<L extends string>(
  names: readonly L[],
  labels: LabelValues<L>,
): string {
  let key = '';
  for (const name of names) key += `${labels[name] ?? ''}\u0000`;
  return key;
}

/** Refuses a label the instrument was not made with, as prom-client does. */
function checkLabels<L extends string>(
  metric: string,
  names: readonly L[],
  labels: LabelValues<L>,
): void {
  for (const label of Object.keys(labels)) {
    if (!(names as readonly string[]).includes(label)) {
      throw new Error(
        `Label "${label}" is not one of ${metric}'s labels (${names.join(', ')}).`,
      );
    }
  }
}

/** The labels `labels(...)` or `remove(...)` name, given as an object or as values in order. */
function labelsOfArgs<L extends string>(
  names: readonly L[],
  args: (string | number | LabelValues<L>)[],
): LabelValues<L> {
  if (typeof args[0] === 'object') return args[0];
  const labels: LabelValues<L> = {};
  names.forEach((name, i) => {
    labels[name] = args[i] as string | number;
  });
  return labels;
}

/** One label set of a `SeriesCounter`: increments kept here until a scrape reads them. */
export class CounterSeries {
  /** Counted since the last scrape (or reset). */
  pending = 0;

  constructor(readonly labels: Readonly<LabelValues<string>>) {}

  inc(value = 1): void {
    this.pending += value;
  }
}

/**
 * A counter whose series (`series(labels)`) count without prom-client's
 * lookup; each scrape (`get`) first adds what they counted with the public
 * `inc`. Everything else is prom-client's own.
 */
export class SeriesCounter<L extends string> extends Counter<L> {
  // Made on first use: prom-client's constructor calls `reset()` before
  // this class's fields are set.
  private seriesByKey?: Map<string, CounterSeries>;
  private readonly metricName: string;
  private readonly names: readonly L[];

  constructor(config: {
    name: string;
    help: string;
    labelNames: L[];
    registers: Registry[];
  }) {
    super(config);
    this.metricName = config.name;
    this.names = [...config.labelNames];
  }

  /** The series of a label set; keep it, and `inc` it for each count. */
  series(labels: LabelValues<L>): CounterSeries {
    checkLabels(this.metricName, this.names, labels);
    this.seriesByKey ??= new Map();
    const key = keyOf(this.names, labels);
    let series = this.seriesByKey.get(key);
    if (series === undefined) {
      series = new CounterSeries({ ...labels });
      this.seriesByKey.set(key, series);
    }
    return series;
  }

  override async get(): Promise<
    MetricObjectWithValues<MetricValueWithName<L>>
  > {
    for (const series of this.seriesByKey?.values() ?? []) {
      if (series.pending === 0) continue;
      const value = series.pending;
      series.pending = 0;
      this.inc(series.labels as LabelValues<L>, value);
    }
    return super.get();
  }

  override reset(): void {
    for (const series of this.seriesByKey?.values() ?? []) series.pending = 0;
    super.reset();
  }

  override remove(...args: (string | number | LabelValues<L>)[]): void {
    super.remove(...(args as [LabelValues<L>]));
    const labels = labelsOfArgs(this.names, args);
    const series = this.seriesByKey?.get(keyOf(this.names, labels));
    if (series) series.pending = 0;
  }
}

/** One label set of a `SeriesHistogram`: its buckets, sum and count. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  /** Shown on a scrape: observed (or zeroed) since the last reset. */
  shown = false;

  constructor(
    readonly labels: Readonly<LabelValues<string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = Array.from({ length: bounds.length + 1 }, () => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Value is not a valid number: ${value}`);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
    this.shown = true;
  }

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.shown = false;
  }
}

/** A bucket, sum or count value, as prom-client's histogram gives it (no exemplar). */
type HistogramValue<L extends string> = MetricValueWithName<L | 'le'> & {
  exemplar?: null;
};

/**
 * prom-client's internal read of a histogram, which its `get` and its
 * registry's text both start from: with no values of its own here, it gives
 * name, help, type and aggregator, and runs the `collect` hook.
 */
const PROM_CLIENT_HISTOGRAM = Histogram.prototype as unknown as {
  getForPromString(
    this: Histogram<string>,
  ): Promise<MetricObjectWithValues<MetricValueWithName<string>>>;
};

/**
 * A histogram whose every observation, `observe(labels, value)` included,
 * lands in a series of its own (`series(labels)`, kept by the caller), read
 * by `get` in prom-client's own shape. Exemplars are not supported.
 */
export class SeriesHistogram<L extends string> extends Histogram<L> {
  private seriesByKey?: Map<string, HistogramSeries>;
  private readonly metricName: string;
  private readonly names: readonly L[];
  private readonly bounds: readonly number[];

  constructor(config: {
    name: string;
    help: string;
    labelNames: L[];
    buckets: number[];
    registers: Registry[];
  }) {
    super(config);
    this.metricName = config.name;
    this.names = [...config.labelNames];
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    // prom-client's own values stay empty; an unlabelled histogram shows its
    // zeros from the start, as prom-client's does.
    super.reset();
    if (this.names.length === 0) this.zero({});
    // prom-client sets `observe` on the instance; every observation comes here instead.
    const observe = (labels: LabelValues<L> | number, value?: number): void => {
      if (typeof labels === 'number') this.series({}).observe(labels);
      else this.series(labels).observe(value as number);
    };
    this.observe = observe as Histogram<L>['observe'];
  }

  /** The series of a label set; keep it, and `observe` each value on it. */
  series(labels: LabelValues<L>): HistogramSeries {
    checkLabels(this.metricName, this.names, labels);
    this.seriesByKey ??= new Map();
    const key = keyOf(this.names, labels);
    let series = this.seriesByKey.get(key);
    if (series === undefined) {
      series = new HistogramSeries({ ...labels }, this.bounds);
      this.seriesByKey.set(key, series);
    }
    return series;
  }

  override labels(
    ...args: (string | number | LabelValues<L>)[]
  ): Histogram.Internal<L> {
    // prom-client's first: it refuses a wrong number of values.
    const child = super.labels(...(args as [LabelValues<L>]));
    const series = this.series(labelsOfArgs(this.names, args));
    return { ...child, observe: (value: number) => series.observe(value) };
  }

  override zero(labels: LabelValues<L>): void {
    const series = this.series(labels);
    series.clear();
    series.shown = true;
  }

  override reset(): void {
    for (const series of this.seriesByKey?.values() ?? []) series.clear();
    super.reset();
  }

  override remove(...args: (string | number | LabelValues<L>)[]): void {
    super.remove(...(args as [LabelValues<L>]));
    const labels = labelsOfArgs(this.names, args);
    this.seriesByKey?.get(keyOf(this.names, labels))?.clear();
  }

  override async get(): Promise<
    MetricObjectWithValues<MetricValueWithName<L>>
  > {
    // prom-client's own first (name, help, its `collect` hook; no values, as
    // every observation lands in a series), in the shape `get` returns.
    const own = await PROM_CLIENT_HISTOGRAM.getForPromString.call(this);
    const values = own.values as HistogramValue<L>[];
    const bucket = `${this.metricName}_bucket`;
    for (const series of this.seriesByKey?.values() ?? []) {
      if (!series.shown) continue;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i];
        values.push({
          labels: { le, ...series.labels } as HistogramValue<L>['labels'],
          value: cumulative,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: {
            le: '+Inf',
            ...series.labels,
          } as HistogramValue<L>['labels'],
          value: series.count,
          metricName: bucket,
          exemplar: null,
        },
        {
          labels: { ...series.labels } as HistogramValue<L>['labels'],
          value: series.sum,
          metricName: `${this.metricName}_sum`,
        },
        {
          labels: { ...series.labels } as HistogramValue<L>['labels'],
          value: series.count,
          metricName: `${this.metricName}_count`,
        },
      );
    }
    return own;
  }

  /**
   * prom-client's registry formats a histogram from this internal method when
   * it has one; the shape `get` returns formats to the same text, so the
   * scrape shows the series too (the metrics-scrape suite pins this).
   */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<L>>> {
    return this.get();
  }
}
