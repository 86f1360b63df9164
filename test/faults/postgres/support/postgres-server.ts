import { execFile, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * The PostgreSQL binaries: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin
 * (Debian's layout), else whatever is on PATH.
 */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length > 0) return join(root, versions[0], 'bin');
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (onPath) return onPath.replace(/\/pg_ctl$/, '');
  throw new Error(
    'The fault suite starts its own PostgreSQL and found no binaries: install the ' +
      'PostgreSQL server package (initdb, pg_ctl) or set PG_BIN to the folder holding them.',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A throwaway PostgreSQL cluster of the test's own: its data and socket folder
 * in a temp folder, a free port on 127.0.0.1, trust auth. The fault tests stop,
 * restart and kill it; the machine's server (5432) is never touched.
 *
 * initdb and the server refuse to run as root, so as root every binary runs as
 * the `postgres` user, which then owns the temp folder. initdb takes under a
 * second with --no-sync, so each test file makes a fresh cluster.
 */
export class PostgresServer {
  private constructor(
    private readonly bin: string,
    private readonly root: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PostgresServer> {
    const root = mkdtempSync(join(tmpdir(), 'chronicle-pg-'));
    const server = new PostgresServer(binDir(), root, await freePort());
    try {
      if (asRoot()) chownSync(root, postgresUid(), postgresGid());
      await server.pg('initdb', [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]);
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  get dataDir(): string {
    return join(this.root, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    // fsync off: the tests kill the server, never the machine, so the OS keeps
    // every write; it only saves the 2-core CI box some disk waits.
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${this.root}'`,
      '-c fsync=off',
      '-c max_connections=200',
    ].join(' ');
    await this.pg('pg_ctl', [
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      this.dataDir,
      '-l',
      join(this.root, 'server.log'),
      '-o',
      options,
    ]);
  }

  /** `pg_ctl stop -m fast` (clients are disconnected, a clean shutdown) or `immediate` (no shutdown checkpoint; recovery on start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.pg('pg_ctl', ['stop', '-w', '-D', this.dataDir, '-m', mode]);
  }

  /** `pg_ctl restart -m fast`: every connection is terminated, the server comes back at once. */
  async restart(): Promise<void> {
    await this.pg('pg_ctl', [
      'restart',
      '-w',
      '-t',
      '60',
      '-D',
      this.dataDir,
      '-m',
      'fast',
      '-l',
      join(this.root, 'server.log'),
    ]);
  }

  /** SIGKILL of the postmaster: the crash a supervisor sees; start() then runs recovery. */
  async kill(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    // Its backends notice the dead postmaster and exit; wait for them all, or
    // a new start finds the old shared memory still in use.
    for (let i = 0; i < 200 && (alive(pid) || this.anyBackendAlive()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // A killed postmaster leaves its lock files; a new one would refuse them
    // while the old pid lingers unreaped (a container's init may be slow to).
    for (const file of [
      join(this.dataDir, 'postmaster.pid'),
      join(this.root, `.s.PGSQL.${this.port}.lock`),
      join(this.root, `.s.PGSQL.${this.port}`),
    ]) {
      rmSync(file, { force: true });
    }
  }

  /** A pool on this server; the caller ends it. Errors of idle clients are expected here (restarts). */
  pool(max = 10): pg.Pool {
    const pool = new pg.Pool({ connectionString: this.url, max });
    pool.on('error', () => undefined);
    return pool;
  }

  /** Stops the server however it is, and removes its folder. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.postmasterPid() !== undefined) {
      await this.stop('immediate').catch(() => this.kill());
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The last lines of the server's log, for a failure message. */
  logTail(lines = 30): string {
    const file = join(this.root, 'server.log');
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  }

  private postmasterPid(): number | undefined {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return alive(pid) ? pid : undefined;
  }

  /** Whether any process still runs in the data folder (a backend's working directory is it). */
  private anyBackendAlive(): boolean {
    if (!existsSync('/proc')) return false;
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .some((pid) => {
        try {
          return readlinkSync(`/proc/${pid}/cwd`) === this.dataDir;
        } catch {
          return false; // gone meanwhile, or not ours to read
        }
      });
  }

  private async pg(binary: string, args: string[]): Promise<void> {
    const path = join(this.bin, binary);
    const [file, argv] = asRoot()
      ? ['runuser', ['-u', 'postgres', '--', path, ...args]]
      : [path, args];
    try {
      await run(file, argv, { timeout: 90_000 });
    } catch (error) {
      const tail = this.logTail();
      throw new Error(
        `${binary} ${args[0]} failed: ${(error as Error).message}${tail ? `\nserver log:\n${tail}` : ''}`,
        { cause: error },
      );
    }
  }
}

/** Whether a process runs: it exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  if (!existsSync('/proc')) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function asRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUid(): number {
  return Number(
    spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout,
  );
}

function postgresGid(): number {
  return Number(
    spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout,
  );
}
