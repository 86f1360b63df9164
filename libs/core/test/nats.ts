import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect as tcpConnect } from 'node:net';
import { randomBytes } from 'node:crypto';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A namespace no other test uses, so subjects never cross between tests. */
export function freshNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** The nats-server binary: NATS_SERVER_BIN, else the one on PATH or in /usr/sbin. */
function natsServerBinary(): string {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(':').map((dir) => `${dir}/nats-server`),
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      'These tests start their own nats-server (to drop connections and to try ' +
        'authentication) and found none: install nats-server 2.9+ or set NATS_SERVER_BIN.',
    );
  }
  return found;
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

async function waitForPort(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open === up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `nats-server on port ${port} did not ${up ? 'start' : 'stop'}`,
  );
}

/** How clients must authenticate to an `OwnNatsServer` (at most one way). */
export interface OwnNatsAuth {
  readonly token?: string;
  readonly user?: string;
  readonly pass?: string;
  /** The public key (`U...`) of the one nkey user allowed in. */
  readonly nkey?: string;
  /** More configuration, in nats-server's syntax (an `authorization` block, `tls`...). */
  readonly config?: string;
  /** The server's environment beside the test's: variables its configuration reads (`$NAME`). */
  readonly env?: Record<string, string>;
}

/** A nats-server of the test's own, on a free loopback port; stop and start it at will. */
export class OwnNatsServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private token: string | undefined,
    private readonly auth: OwnNatsAuth,
  ) {}

  static async start(options: OwnNatsAuth = {}): Promise<OwnNatsServer> {
    const server = new OwnNatsServer(await freePort(), options.token, options);
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port; `token` changes the one it accepts. */
  async resume(options: { token?: string } = {}): Promise<void> {
    if ('token' in options) this.token = options.token;
    const args = ['-a', '127.0.0.1', '-p', String(this.port)];
    if (this.token) args.push('--auth', this.token);
    if (this.auth.user)
      args.push('--user', this.auth.user, '--pass', this.auth.pass ?? '');
    // NKey users, permissions and TLS exist only in a configuration file.
    const config = [
      this.auth.nkey
        ? `authorization { users = [ { nkey: "${this.auth.nkey}" } ] }`
        : '',
      this.auth.config ?? '',
    ].join('\n');
    if (config.trim()) {
      const file = join(mkdtempSync(join(tmpdir(), 'nats-conf-')), 'nats.conf');
      writeFileSync(file, `${config}\n`);
      args.push('-c', file);
    }
    this.process = spawn(natsServerBinary(), args, {
      stdio: 'ignore',
      env: { ...process.env, ...this.auth.env },
    });
    await waitForPort(this.port, true);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitForPort(this.port, false);
  }
}

/** The transport tests' name for the shared wait. */
export { waitUntil as eventually } from './wait-until.js';
