import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const STORE_PROCESS = fileURLToPath(
  new URL('./fixtures/embedded-store-process.mjs', import.meta.url),
);

interface Opened {
  readonly child: ChildProcess;
  /** "ready", or the "refused ..." line. */
  readonly first: Promise<string>;
}

/** Two processes on one embedded data directory: the second is refused. */
describe('an embedded data directory is used by one process at a time', () => {
  let parent: string;
  let dataDir: string;
  const children: ChildProcess[] = [];

  function open(): Opened {
    const child = spawn(process.execPath, [STORE_PROCESS], {
      env: { ...process.env, DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    const first = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    return { child, first };
  }

  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'chronicle-lock-'));
    dataDir = join(parent, 'pgdata');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    rmSync(parent, { recursive: true, force: true });
  });

  it('refuses a second process with a typed error naming the directory and the holder’s pid; frees it on close', async () => {
    const first = open();
    expect(await first.first).toBe('ready');

    const second = open();
    const refusal = await second.first;
    expect(refusal).toMatch(/^refused DATA_DIRECTORY_IN_USE /);
    expect(refusal).toContain(dataDir);
    expect(refusal).toContain(`process ${first.child.pid}`);
    await once(second.child, 'exit');
    expect(second.child.exitCode).toBe(3);

    first.child.stdin!.write('close\n');
    await once(first.child, 'exit');
    expect(first.child.exitCode).toBe(0);

    const third = open();
    expect(await third.first).toBe('ready');
  });

  it('takes over the lock of a process that died without closing', async () => {
    const first = open();
    expect(await first.first).toBe('ready');
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    expect(existsSync(`${dataDir}.lock`)).toBe(true);

    const second = open();
    expect(await second.first).toBe('ready');
  });
});
