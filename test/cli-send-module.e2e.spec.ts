import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}libs/core/bin/chronicle.js`;
const MODULE = `${root}test/fixtures/counter-module.mjs`;

/**
 * Runs `chronicle <args>` through the package's bin with an environment of
 * the test's choosing (nothing of the shell's DATABASE_URL or NATS_URL
 * unless given), as a user's shell would.
 */
async function chronicle(env: Record<string, string>, ...args: string[]) {
  const { DATABASE_URL: _db, NATS_URL: _nats, ...rest } = process.env;
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      timeout: 120_000,
      env: { ...rest, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/*
 * An embedded app has no NATS to be reached over: `--module` runs its built
 * module in the command's process, on its data directory, and sends there.
 */
describe('chronicle send and query --module, on an embedded app', () => {
  let parent: string;
  let dataDir: string;

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'chronicle-cli-module-'));
    dataDir = join(parent, 'counter');
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('handles a command in process and keeps its events in the data directory', async () => {
    const first = await chronicle(
      // An unreachable NATS: --module must not use it.
      { NATS_URL: 'nats://127.0.0.1:1' },
      'send',
      'count.Add',
      '{"counterId":"c-1","by":2}',
      '--module',
      MODULE,
      '--data-dir',
      dataDir,
    );
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout)).toEqual({ counterId: 'c-1', total: 2 });

    // A second process sees the first one's events.
    const second = await chronicle(
      {},
      'send',
      'count.Add',
      '{"counterId":"c-1","by":3}',
      '--module',
      MODULE,
      '--data-dir',
      dataDir,
    );
    expect(JSON.parse(second.stdout)).toEqual({ counterId: 'c-1', total: 5 });
  });

  it('asks a query in process, with the data directory from CHRONICLE_DATA_DIR', async () => {
    const { code, stdout } = await chronicle(
      { CHRONICLE_DATA_DIR: dataDir },
      'query',
      'count.Total',
      '{"counterId":"c-1"}',
      '--module',
      MODULE,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      counterId: 'c-1',
      total: 5,
      version: 2,
    });
  });

  it('validates the payload as any caller would', async () => {
    const { code, stderr } = await chronicle(
      {},
      'send',
      'count.Add',
      '{"counterId":"c-1","by":0}',
      '--module',
      MODULE,
      '--data-dir',
      dataDir,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/by/);
  });

  it('refuses a store in memory, where the command would be lost', async () => {
    const { code, stderr } = await chronicle(
      {},
      'send',
      'count.Add',
      '{"counterId":"c-2","by":1}',
      '--module',
      MODULE,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/in memory/);
    expect(stderr).toMatch(/--data-dir/);
  });

  it('keeps the message in process even when the module names a NATS in its code', async () => {
    const sent = await chronicle(
      // Unreachable: joining it would fail the command.
      { COUNTER_NATS_IN_CODE: 'nats://127.0.0.1:1' },
      'send',
      'count.Add',
      '{"counterId":"c-9","by":4}',
      '--module',
      MODULE,
      '--data-dir',
      join(parent, 'nats-in-code'),
    );
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(sent.stdout)).toEqual({ counterId: 'c-9', total: 4 });
  });

  it('names the types the module declares when it handles no such one', async () => {
    const { code, stderr } = await chronicle(
      {},
      'query',
      'count.Average',
      '{}',
      '--module',
      MODULE,
      '--data-dir',
      dataDir,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      'handles no query "count.Average" (the query types it declares: count.Total)',
    );
  });

  it('refuses --data-dir without --module, and --nats with it', async () => {
    const alone = await chronicle(
      {},
      'send',
      'count.Add',
      '--data-dir',
      dataDir,
    );
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--data-dir goes with --module/);
    const both = await chronicle(
      {},
      'send',
      'count.Add',
      '--module',
      MODULE,
      '--nats',
      'nats://127.0.0.1:4222',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/pick one/);
  });
});
