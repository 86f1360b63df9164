import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../../../libs/core/test/wait-until.js';

/** Who may connect: a token, or one user and password. Nothing: anyone. */
export interface NatsAuth {
  readonly token?: string;
  readonly user?: string;
  readonly pass?: string;
}

/** The routes part of a cluster node's config. */
export interface NatsRoutes {
  readonly name: string;
  readonly port: number;
  readonly routes: readonly number[];
}

/** The machine's own NATS: a fault test must never stop or reconfigure it. */
const MACHINE_PORT = 4222;

const BINARY = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A TCP port free on loopback now (the OS picks it; never the machine's 4222). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: picked } = server.address() as { port: number };
        server.close(() => resolve(picked));
      });
    });
    if (port !== MACHINE_PORT) return port;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The server's config file: JSON is valid NATS config syntax. */
function configOf(
  port: number,
  monitorPort: number,
  auth: NatsAuth,
  cluster?: NatsRoutes,
): string {
  const config: Record<string, unknown> = {
    host: '127.0.0.1',
    port,
    http_port: monitorPort,
    // JetStream stays off: the transport uses core request-reply only.
    jetstream: false,
  };
  if (auth.token) config.authorization = { token: auth.token };
  if (auth.user) {
    config.authorization = {
      users: [{ user: auth.user, password: auth.pass }],
    };
  }
  if (cluster) {
    config.server_name = `${cluster.name}-${port}`;
    config.cluster = {
      name: cluster.name,
      host: '127.0.0.1',
      port: cluster.port,
      routes: cluster.routes.map((p) => `nats-route://127.0.0.1:${p}`),
    };
  }
  return JSON.stringify(config, null, 2);
}

/**
 * A nats-server of the test's own, on a free loopback port, with a config file
 * it writes (auth, cluster routes). It can be stopped (SIGTERM), killed
 * (SIGKILL), started again on the same port, and with another config.
 */
export class NatsServer {
  private child?: ChildProcess;
  /** What the server wrote to stderr (its log), across restarts. */
  readonly log: string[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'chronicle-nats-'));

  private constructor(
    readonly port: number,
    readonly monitorPort: number,
    private auth: NatsAuth,
    private readonly cluster?: NatsRoutes,
  ) {}

  static async start(
    options: { auth?: NatsAuth; cluster?: NatsRoutes } = {},
  ): Promise<NatsServer> {
    const server = new NatsServer(
      await freePort(),
      await freePort(),
      options.auth ?? {},
      options.cluster,
    );
    try {
      await server.resume();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const child = this.child;
    // A child ended by a signal has a signalCode and no exitCode.
    return (
      child !== undefined &&
      child.exitCode === null &&
      child.signalCode === null
    );
  }

  /** Starts the server again (same port, current config); resolves once it accepts clients. */
  async resume(): Promise<void> {
    if (!existsSync(BINARY)) {
      throw new Error(
        `The NATS fault tests start their own nats-server and found none at ${BINARY}: ` +
          'install nats-server 2.9+ or set NATS_SERVER_BIN.',
      );
    }
    if (this.running) return;
    const config = join(this.dir, 'nats.conf');
    writeFileSync(
      config,
      configOf(this.port, this.monitorPort, this.auth, this.cluster),
    );
    const child = spawn(BINARY, ['-c', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log = this.log;
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    this.child = child;
    await waitUntil(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `nats-server on port ${this.port} exited: ${log.slice(-5).join('')}`,
          );
        }
        return portOpen(this.port);
      },
      `nats-server listening on port ${this.port}`,
      10_000,
    );
  }

  /** A graceful shutdown (SIGTERM): clients see the connection close. */
  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  /** A crash (SIGKILL): no goodbye to clients or routes. */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.end(signal);
    await this.resume();
  }

  /** Restarts with other credentials (a rotated token, say); clients keep theirs. */
  async restartWith(auth: NatsAuth): Promise<void> {
    await this.end('SIGTERM');
    this.auth = auth;
    await this.resume();
  }

  /** What the monitoring endpoint says (`connz`, `routez`, `varz`). */
  async monitor<T>(endpoint: string): Promise<T> {
    const response = await fetch(
      `http://127.0.0.1:${this.monitorPort}/${endpoint}`,
    );
    return (await response.json()) as T;
  }

  /** The names of the client connections on this server now. */
  async clientNames(): Promise<string[]> {
    const connz = await this.monitor<{
      connections?: { name?: string }[];
    }>('connz?limit=1000');
    return (connz.connections ?? []).map((c) => c.name ?? '');
  }

  /** Stops the server if it runs and removes its config folder. */
  async dispose(): Promise<void> {
    await this.end('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    await waitUntil(
      async () => !(await portOpen(this.port)),
      `port ${this.port} closed`,
      10_000,
    );
  }
}

/**
 * Three nats-servers routed to each other on loopback: one cluster name, each
 * node its own client, cluster and monitoring port, every node listing the
 * other two in its routes.
 */
export class NatsCluster {
  private constructor(readonly nodes: readonly NatsServer[]) {}

  static async start(size = 3): Promise<NatsCluster> {
    const name = `faults${process.pid}`;
    const clusterPorts: number[] = [];
    for (let i = 0; i < size; i++) clusterPorts.push(await freePort());
    const nodes: NatsServer[] = [];
    try {
      for (const port of clusterPorts) {
        nodes.push(
          await NatsServer.start({
            cluster: {
              name,
              port,
              routes: clusterPorts.filter((p) => p !== port),
            },
          }),
        );
      }
      const cluster = new NatsCluster(nodes);
      await cluster.routed();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.dispose()));
      throw error;
    }
  }

  /** Resolves once every running node has a route to every other running node. */
  async routed(): Promise<void> {
    const running = this.nodes.filter((n) => n.running);
    await waitUntil(
      async () => {
        const counts = await Promise.all(
          running.map((n) => n.monitor<{ num_routes: number }>('routez')),
        );
        return counts.every((c) => c.num_routes >= running.length - 1);
      },
      'the cluster nodes routed to each other',
      15_000,
    );
  }

  /** The node whose client connections include one named `name`. */
  async nodeOf(name: string): Promise<NatsServer | undefined> {
    for (const node of this.nodes.filter((n) => n.running)) {
      if ((await node.clientNames()).includes(name)) return node;
    }
    return undefined;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }
}
