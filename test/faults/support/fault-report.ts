import { waitUntil } from '../../../libs/core/test/wait-until.js';

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
 * then asserts nothing acknowledged was lost or stored twice.
 */
export function report(scenario: string, figures: FaultFigures): void {
  const { attempted, acknowledged, stored, lost, duplicated } = figures;
  // Straight to stdout: console.log under Jest buries the line in a stack trace.
  process.stdout.write(
    `[fault] ${scenario}: attempted ${attempted} / acknowledged ${acknowledged} / stored ${stored} / lost ${lost} / duplicated ${duplicated}\n`,
  );
  expect({ scenario, lost, duplicated }).toEqual({
    scenario,
    lost: 0,
    duplicated: 0,
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
