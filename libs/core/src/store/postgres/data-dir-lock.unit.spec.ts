import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryInUseError } from '../store.errors.js';
import { lockDataDir } from './data-dir-lock.js';

describe('the embedded data directory lock', () => {
  let parent: string;
  let dataDir: string;

  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'chronicle-lock-unit-'));
    dataDir = join(parent, 'pgdata');
  });

  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  const owner = () =>
    JSON.parse(readFileSync(`${dataDir}.lock`, 'utf8')) as { pid: number };
  const leave = (pid: number, host = hostname()) =>
    writeFileSync(`${dataDir}.lock`, JSON.stringify({ pid, host }));

  it('is held once per directory, also within one process, until released', () => {
    const lock = lockDataDir(dataDir);
    expect(owner().pid).toBe(process.pid);
    const error = (() => {
      try {
        lockDataDir(dataDir);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DataDirectoryInUseError);
    expect(error).toMatchObject({ dataDir, pid: process.pid });
    lock.release();
    lockDataDir(dataDir).release();
  });

  it('takes over the lock of a dead process', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    leave(dead);
    const lock = lockDataDir(dataDir);
    expect(owner().pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock left by an earlier process with this pid (a restarted container)', () => {
    leave(process.pid);
    lockDataDir(dataDir).release();
  });

  it('refuses a lock held from another host, naming it', () => {
    leave(12345, 'elsewhere');
    expect(() => lockDataDir(dataDir)).toThrow(/process 12345 on elsewhere/);
  });
});
