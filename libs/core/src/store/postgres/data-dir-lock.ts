import {
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { DataDirectoryInUseError } from '../store.errors.js';

/*
 * PGlite is a database in one process: two processes on one data directory
 * each believe they own it, and acknowledged writes get lost and indexes
 * corrupted, silently. So the directory is locked by a file beside it
 * (`<dataDir>.lock`, outside PGlite's own files), created atomically with
 * O_EXCL and holding the owner's pid. The lock of a process that died without
 * closing is taken over; a live owner gets a `DataDirectoryInUseError`.
 */

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

/** A held lock: `release()` removes the file if it is still ours. */
export interface DataDirLock {
  readonly file: string;
  release(): void;
}

const TAKEOVER_STALE_MS = 10_000;

/** The lock files this process holds: its own pid in a file it does not hold is a past life's. */
const heldHere = new Set<string>();

/** Whether `dataDir` is a folder on disk (not `memory://`, `idb://`...). */
export function isFolder(dataDir: string): boolean {
  return !/^[a-z]+:\/\//i.test(dataDir);
}

export function lockDataDir(dataDir: string): DataDirLock {
  const folder = resolve(dataDir);
  const file = `${folder}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(file, me)) return held(file);
    const owner = read(file);
    if (owner && isAlive(owner, file)) {
      throw new DataDirectoryInUseError(
        folder,
        owner.pid,
        file,
        owner.host === me.host ? undefined : owner.host,
      );
    }
    takeOver(file, owner);
  }
  throw new DataDirectoryInUseError(folder, read(file)?.pid ?? -1, file);
}

function held(file: string): DataDirLock {
  let released = false;
  heldHere.add(file);
  const release = () => {
    if (released) return;
    released = true;
    heldHere.delete(file);
    process.removeListener('exit', release);
    if (read(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  // A process that exits without closing still frees its directory.
  process.on('exit', release);
  return { file, release };
}

function create(file: string, owner: LockOwner): boolean {
  try {
    writeFileSync(file, JSON.stringify(owner), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function read(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number'
      ? { pid: parsed.pid, host: String(parsed.host ?? '') }
      : undefined;
  } catch {
    return undefined; // gone meanwhile, or half-written: treated as stale
  }
}

/**
 * Whether the owner may still run: another host's process cannot be asked. A
 * lock with this process's own pid that it does not hold was left by an
 * earlier process that had the same pid (a container restarted as pid 1).
 */
function isAlive(owner: LockOwner, file: string): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return heldHere.has(file);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a dead owner's lock, under a second O_EXCL file so that two
 * processes taking over at once cannot remove each other's fresh lock.
 */
function takeOver(file: string, stale: LockOwner | undefined): void {
  const guard = `${file}.takeover`;
  if (!create(guard, { pid: process.pid, host: hostname() })) {
    const age = Date.now() - (statOrNull(guard)?.mtimeMs ?? Date.now());
    if (age > TAKEOVER_STALE_MS) rmSync(guard, { force: true });
    return;
  }
  try {
    const now = read(file);
    if (now?.pid === stale?.pid && now?.host === stale?.host) {
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(guard, { force: true });
  }
}

function statOrNull(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
