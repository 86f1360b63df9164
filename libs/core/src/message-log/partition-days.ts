import type { LoggedKind } from './log-entry.js';

const DAY_MS = 86_400_000;

/** A UTC day, as the log's partitions are cut: `20261204`. */
export type PartitionDay = string;

/** The UTC day `at` falls in. */
export function dayOf(at: Date): PartitionDay {
  return at.toISOString().slice(0, 10).replaceAll('-', '');
}

/** The day `count` days after `day` (before, when negative). */
export function addDays(day: PartitionDay, count: number): PartitionDay {
  return dayOf(new Date(startOf(day).getTime() + count * DAY_MS));
}

/** Midnight UTC starting `day`. */
export function startOf(day: PartitionDay): Date {
  return new Date(
    `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T00:00:00.000Z`,
  );
}

/**
 * The first day a kind kept for `retentionDays` still keeps at `now`: a day
 * goes once all of it is older than that, so the day `now - retentionDays`
 * falls in is the oldest kept.
 */
export function firstKeptDay(now: Date, retentionDays: number): PartitionDay {
  return dayOf(new Date(now.getTime() - retentionDays * DAY_MS));
}

/** The table holding one kind's rows of one day. */
export function partitionName(kind: LoggedKind, day: PartitionDay): string {
  return `message_log_${kind}_${day}`;
}

const PARTITION_NAME = /^message_log_([a-z]+)_(\d{8})$/;

/** The kind and day of a partition Chronicle made, or undefined for any other table. */
export function parsePartitionName(
  name: string,
  kinds: readonly LoggedKind[],
): { kind: LoggedKind; day: PartitionDay } | undefined {
  const match = PARTITION_NAME.exec(name);
  if (!match) return undefined;
  const kind = kinds.find((known) => known === match[1]);
  const start = startOf(match[2]);
  if (!kind || Number.isNaN(start.getTime()) || dayOf(start) !== match[2]) {
    return undefined;
  }
  return { kind, day: match[2] };
}
