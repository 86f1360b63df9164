import type { ReplayProgress } from '../tracking/index.js';

// How `npx chronicle replay` shows a replay under way: a bar redrawn in place
// on a terminal, plain lines elsewhere (logs, CI, a pipe).

const BAR_WIDTH = 30;

/** "1 m 05 s", "12 s": time left, rounded up to the second. */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60)
    return `${minutes} m ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

function percent(p: ReplayProgress): number {
  return p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
}

function tail(p: ReplayProgress): string {
  const rate = `${Math.round(p.ratePerSecond)} events/s`;
  const left =
    p.secondsLeft === null
      ? 'time left unknown'
      : `${formatDuration(p.secondsLeft)} left`;
  return `${rate}, ${left}`;
}

/** One plain line: `replay "ledger": 120/200 events (60%), 85 events/s, 1 s left`. */
export function progressLine(p: ReplayProgress): string {
  return `replay "${p.consumer}": ${p.done}/${p.total} events (${percent(p)}%), ${tail(p)}`;
}

/** The bar: `[#########.....] 60% 120/200 events, 85 events/s, 1 s left`. */
export function progressBar(p: ReplayProgress): string {
  const filled = Math.round((percent(p) / 100) * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
  return `[${bar}] ${String(percent(p)).padStart(3)}% ${p.done}/${p.total} events, ${tail(p)}`;
}

/** The closing line, once every segment reached the goal. */
export function finishedLine(p: ReplayProgress): string {
  return `Replay of "${p.consumer}" done: ${p.total} events in ${p.elapsedSeconds.toFixed(1)} s.`;
}

/** Writes progress to a stream: in place on a TTY, a line per change elsewhere. */
export class ProgressWriter {
  private lastDone = -1;

  constructor(private readonly out: NodeJS.WriteStream) {}

  show(p: ReplayProgress): void {
    if (this.out.isTTY) {
      this.out.write(`\r${progressBar(p)}\x1b[K`);
      if (p.finished || p.stopped) this.out.write('\n');
      return;
    }
    // Plain output is for logs: a line only when the replay moved.
    if (p.done === this.lastDone && !p.finished && !p.stopped) return;
    this.lastDone = p.done;
    this.out.write(`${progressLine(p)}\n`);
  }
}
