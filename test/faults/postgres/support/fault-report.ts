import { waitUntil } from '../../../../libs/core/test/wait-until.js';

/** What a fault scenario did, and what the store holds afterwards. */
export interface FaultFigures {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly stored: number;
  /** Acknowledged work that is not stored. */
  readonly lost: number;
  /** Stored copies beyond the first of one piece of work. */
  readonly duplicated: number;
}

/**
 * Counts a run by the ids of its work: `acknowledged` are the ids the system
 * said yes to, `stored` every id found afterwards, repeats included.
 */
export function tally(
  attempted: number,
  acknowledged: Iterable<string>,
  stored: readonly string[],
): FaultFigures {
  const acked = new Set(acknowledged);
  const found = new Set(stored);
  return {
    attempted,
    acknowledged: acked.size,
    stored: found.size,
    lost: [...acked].filter((id) => !found.has(id)).length,
    duplicated: stored.length - found.size,
  };
}

/**
 * Prints the scenario's line, the figures the issue asks of every fault run,
 * then asserts nothing acknowledged was lost or stored twice, and that each
 * of the scenario's own counts of things that must not happen (`mustBeZero`,
 * e.g. refused writes) is 0. `example` shows one of them in the failure.
 */
export function report(
  scenario: string,
  figures: FaultFigures,
  mustBeZero: Record<string, number> = {},
  example?: string,
): void {
  const { attempted, acknowledged, stored, lost, duplicated } = figures;
  const extras = Object.entries(mustBeZero).map(([k, v]) => ` / ${k} ${v}`);
  // Straight to stdout: console.log under Jest buries the line in a stack trace.
  process.stdout.write(
    `[fault] ${scenario}: attempted ${attempted} / acknowledged ${acknowledged} / stored ${stored} / lost ${lost} / duplicated ${duplicated}${extras.join('')}\n`,
  );
  const zeros = Object.fromEntries(Object.keys(mustBeZero).map((k) => [k, 0]));
  // `example` is undefined exactly when every count is 0 (callers pass the
  // first offending item), so it only shows up in a failure's diff.
  expect({ scenario, lost, duplicated, ...mustBeZero, example }).toEqual({
    scenario,
    lost: 0,
    duplicated: 0,
    ...zeros,
    example: undefined,
  });
}

/** waitUntil for conditions that query a database: a few checks a second, not a hundred. */
export function poll(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 150,
): Promise<void> {
  return waitUntil(
    async () => {
      if (await condition()) return true;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      return false;
    },
    what,
    timeoutMs,
  );
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
