import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DATABASE_URL } from '../../../../libs/core/test/databases.js';
import { waitUntil } from '../../../../libs/core/test/wait-until.js';

const here = (file: string): string =>
  fileURLToPath(new URL(`./${file}`, import.meta.url));

/** What a load process has printed as `progress {...}` last. */
export interface LoadProgress {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
}

/** How one kind of failure (`Class/code`) went, as the load process saw it. */
export interface FailureKind {
  readonly count: number;
  /** Failures whose error did not carry the id of the command it was about. */
  readonly withoutMessageId: number;
  /** Up to three distinct messages of this kind. */
  readonly examples: string[];
}

/** What a load process reports when it stops: command ids by outcome. */
export interface LoadSummary {
  readonly attempted: string[];
  readonly acknowledged: string[];
  readonly unacknowledged: string[];
  readonly wrongAnswers: unknown[];
  readonly failed: number;
  readonly resent: number;
  readonly failures: Record<string, FailureKind>;
}

/** Where an app process finds NATS and PostgreSQL. */
export interface AppEnv {
  readonly NATS_SERVERS: string;
  readonly NAMESPACE: string;
  readonly SCHEMA: string;
  /** The connection's name, as the server's monitoring shows it. */
  readonly NATS_NAME: string;
  readonly NATS_TOKEN?: string;
  readonly [key: string]: string | undefined;
}

/**
 * A Chronicle app in a child process of its own (the built libs: run
 * `npm run build` first), the lines it printed, and its stderr kept for the
 * report. Never the machine's NATS: the environment names the test's own.
 */
export class FaultProcess {
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) =>
      this.lines.push(line),
    );
    createInterface({ input: child.stderr! }).on('line', (line) =>
      this.errors.push(line),
    );
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
  }

  /** The handler app: RecordEntry appends one EntryRecorded event. */
  static handler(env: AppEnv): FaultProcess {
    return FaultProcess.spawn('entries-app.mjs', env);
  }

  /** The load: sends RecordEntry commands and resends failures with the same id. */
  static load(env: AppEnv & { WORKERS?: string }): FaultProcess {
    return FaultProcess.spawn('command-load.mjs', env);
  }

  private static spawn(script: string, env: AppEnv): FaultProcess {
    const child = spawn(process.execPath, [here(script)], {
      env: {
        ...process.env,
        DATABASE_URL,
        // The machine's NATS must not be reached by accident through a default.
        NATS_URL: env.NATS_SERVERS,
        // Plain log lines, to read in the report.
        NO_COLOR: '1',
        ...Object.fromEntries(
          Object.entries(env).filter(([, value]) => value !== undefined),
        ),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new FaultProcess(env.NATS_NAME, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still the process it was at the start: not exited, not restarted. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  ready(): Promise<void> {
    return waitUntil(
      () => {
        if (!this.alive) {
          throw new Error(`${this.name} exited: ${this.errors.join('\n')}`);
        }
        return this.lines.includes('ready');
      },
      `${this.name} is ready`,
      30_000,
    );
  }

  /** The last progress a load process printed (zeros before the first). */
  progress(): LoadProgress {
    const line = this.lines.findLast((l) => l.startsWith('progress '));
    return line
      ? (JSON.parse(line.slice('progress '.length)) as LoadProgress)
      : { attempted: 0, acknowledged: 0, failed: 0 };
  }

  /** Waits until the load has `count` more acknowledged commands than `from`. */
  async acknowledgedMore(
    from: number,
    count: number,
    timeoutMs = 20_000,
  ): Promise<number> {
    await waitUntil(
      () => this.progress().acknowledged >= from + count,
      `${this.name}: ${count} more commands acknowledged (from ${from})`,
      timeoutMs,
    );
    return this.progress().acknowledged;
  }

  /** Tells a load to send nothing new, and waits for its summary. */
  async finish(timeoutMs = 40_000): Promise<LoadSummary> {
    this.child.stdin?.write('stop\n');
    await waitUntil(
      () => this.lines.some((l) => l.startsWith('summary ')),
      `${this.name} summed up its load`,
      timeoutMs,
    );
    const line = this.lines.find((l) => l.startsWith('summary '))!;
    return JSON.parse(line.slice('summary '.length)) as LoadSummary;
  }

  /** Ends the process (SIGKILL unless told) and waits for it to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.child.kill(signal);
    await this.exited;
  }
}
