import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ChronicleModule } from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../../libs/core/test/databases.js';
import { eventually, NATS_URL } from '../../libs/core/test/nats.js';

/** A microclient in a process of its own, and the lines it has printed. */
export class Microclient {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) =>
      this.lines.push(line),
    );
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.exited = new Promise((resolve) => child.once('exit', resolve));
  }

  static start(script: string, env: Record<string, string>): Microclient {
    return new Microclient(
      spawn(process.execPath, [script], {
        env: { ...process.env, DATABASE_URL, NATS_URL, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(): Promise<void> {
    return eventually(
      () => this.lines.some((l) => /ready/.test(l)),
      'the app is ready',
      30_000,
    );
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** The sending side: a Nest app in this process that handles nothing itself. */
export async function startCaller(
  namespace: string,
): Promise<INestApplicationContext> {
  @Module({})
  class CallerModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app: 'caller',
        database: { url: DATABASE_URL, schema: freshSchema('caller') },
        transport: { nats: NATS_URL, namespace },
      }),
      CallerModule,
    ],
  }).compile();
  return moduleRef.init();
}
