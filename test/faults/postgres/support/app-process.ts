import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../../../libs/core/test/wait-until.js';

// Nest colours its log lines; the escape codes only clutter a failure's diff.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** A fixture app of the fault suite (test/faults/postgres/fixtures/<name>.mjs), on the built libs. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.mjs`, import.meta.url));
}

/**
 * An app in a process of its own, as a deployment runs it: the fault tests
 * kill it, watch whether it dies by itself, and read what it printed.
 * stderr is kept, not echoed: apps log every dropped connection while the
 * database restarts, and a failing assertion prints the tail instead.
 */
export class AppProcess {
  readonly lines: string[] = [];
  private stderr = '';
  private readonly exit: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) =>
      this.lines.push(line),
    );
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  static start(
    name: string,
    script: string,
    env: Record<string, string>,
  ): AppProcess {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(name, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended; resolves when it has. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }

  /** What it wrote to stderr (the last 20 kB), without Nest's colours. */
  errors(): string {
    return this.stderr.replace(ANSI_COLOUR, '');
  }

  /** Waits for a line matching `pattern`; fails early, with its stderr, if the process ends first. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      () => {
        if (this.lines.some((line) => pattern.test(line))) return true;
        if (!this.running) {
          throw new Error(
            `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.stderr.slice(-4_000)}`,
          );
        }
        return false;
      },
      `${this.name} to print ${pattern}`,
      timeoutMs,
    );
  }

  ready(timeoutMs = 30_000): Promise<void> {
    return this.waitForLine(/^ready$/, timeoutMs);
  }

  /** Sends `signal` and goes on (a signal the app handles, such as SIGUSR2). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` (SIGKILL: no shutdown hook runs) and waits until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exit;
  }
}
