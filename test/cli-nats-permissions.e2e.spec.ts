import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandBus,
  CommandHandler,
  CommandType,
  RemoteHandlerError,
  type ICommandHandler,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import {
  eventually,
  freshNamespace,
  OwnNatsServer,
} from '../libs/core/test/nats.js';
import { secret } from '../libs/core/test/secret-watch.js';

// The least privilege `chronicle nats-permissions` prints, on a nats-server
// of the test's own configured with it: the app serves and sends what it was
// built to, and a command its permissions do not list is refused by NATS,
// as a typed error to the sender, while the app stays up.

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}libs/core/bin/chronicle.js`;
const DESK_MODULE = `${root}test/fixtures/desk-module.mjs`;
const DESK_APP = `${root}test/fixtures/desk-app.mjs`;
const DESK_PASSWORD = secret('desk-pa55-7f3c9e1b');
const CALLER_PASSWORD = secret('caller-pa55-0d2a');

@CommandType('helper.Help')
class Help {
  constructor(readonly name: string) {}
}

@CommandType('vault.Open')
class Open {
  constructor(readonly name: string) {}
}

@CommandType('desk.Greet')
class Greet {
  constructor(
    readonly name: string,
    readonly ask?: 'helper' | 'vault' | 'fail',
  ) {}
}

/** What the other app's handlers ran. */
const ran: string[] = [];

@CommandHandler(Help)
@Injectable()
class HelpHandler implements ICommandHandler<Help> {
  async execute({ name }: Help) {
    ran.push(`help ${name}`);
    return { helped: name };
  }
}

@CommandHandler(Open)
@Injectable()
class OpenHandler implements ICommandHandler<Open> {
  async execute({ name }: Open) {
    ran.push(`open ${name}`);
    return { opened: name };
  }
}

/** The desk app as a process, and every line it printed. */
class DeskProcess {
  readonly output: string[] = [];
  readonly exited: Promise<unknown>;

  constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => this.output.push(b.toString()));
    this.exited = new Promise((resolve) => child.once('exit', resolve));
  }

  get log(): string {
    return this.output.join('');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stop(): Promise<unknown> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }
}

describe('chronicle nats-permissions, on a nats-server configured with what it prints', () => {
  const namespace = freshNamespace();
  let block: string;
  let server: OwnNatsServer;
  let desk: DeskProcess;
  let caller: INestApplicationContext;
  let commands: CommandBus;

  beforeAll(async () => {
    const { NATS_URL: _n, DATABASE_URL: _d, ...env } = process.env;
    ({ stdout: block } = await execute(
      process.execPath,
      [
        bin,
        'nats-permissions',
        '--module',
        DESK_MODULE,
        '--namespace',
        namespace,
      ],
      { env, timeout: 120_000 },
    ));
    // The other app of the deployment may do anything: only desk is restricted.
    const config = block.replace(
      /users: \[\n/,
      `users: [\n    { user: "caller", password: "${CALLER_PASSWORD}" }\n`,
    );
    server = await OwnNatsServer.start({
      config,
      env: { DESK_NATS_PASSWORD: DESK_PASSWORD },
    });

    @Module({ providers: [HelpHandler, OpenHandler] })
    class HelperModule {}
    caller = await (
      await Test.createTestingModule({
        imports: [
          ChronicleModule.forRoot({
            app: 'caller',
            database: { url: DATABASE_URL, schema: freshSchema('caller') },
            transport: {
              nats: {
                servers: server.url,
                user: 'caller',
                pass: CALLER_PASSWORD,
              },
              namespace,
            },
          }),
          HelperModule,
        ],
      }).compile()
    ).init();
    commands = caller.get(CommandBus);

    const { NATS_URL: _url, ...shell } = process.env;
    desk = new DeskProcess(
      spawn(process.execPath, [DESK_APP], {
        env: {
          ...shell,
          NATS_URL: server.url,
          NATS_USER: 'desk',
          NATS_PASSWORD: DESK_PASSWORD,
          DATABASE_URL,
          CHRONICLE_SCHEMA: freshSchema('desk'),
          CHRONICLE_NAMESPACE: namespace,
          DESK_KNOWS_VAULT: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await eventually(() => /ready/.test(desk.log), 'desk is ready', 30_000);
  }, 180_000);

  afterAll(async () => {
    await desk?.stop();
    await caller?.close();
    await server?.stop();
  });

  it('prints the subjects desk serves and sends, and no secret', () => {
    expect(block).toContain('user: "desk"');
    expect(block).toContain('password: $DESK_NATS_PASSWORD');
    expect(block).toContain(`"chronicle.${namespace}.command.desk.Greet"`);
    expect(block).toContain(`"chronicle.${namespace}.command.helper.Help"`);
    expect(block).toContain(`"chronicle.${namespace}.error.desk.Greet"`);
    expect(block).toContain('"_INBOX.>"');
    expect(block).toContain('allow_responses: true');
    expect(block).not.toContain('vault.Open');
  });

  it('never joins a NATS the app names in its code, and prints the same as JSON', async () => {
    const { NATS_URL: _n, DATABASE_URL: _d, ...env } = process.env;
    const { stdout } = await execute(
      process.execPath,
      [
        bin,
        'nats-permissions',
        '--module',
        DESK_MODULE,
        '--namespace',
        namespace,
        '--json',
      ],
      // Nothing listens there: joining it would fail the start.
      {
        env: { ...env, DESK_NATS_IN_CODE: 'nats://127.0.0.1:1' },
        timeout: 120_000,
      },
    );
    const printed = JSON.parse(stdout) as {
      user: string;
      passwordVariable: string;
      permissions: {
        publish: { allow: string[] };
        subscribe: { allow: string[] };
      };
    };
    expect(printed).toMatchObject({
      app: 'desk',
      namespace,
      user: 'desk',
      passwordVariable: 'DESK_NATS_PASSWORD',
      permissions: { allow_responses: true },
    });
    for (const subject of [
      ...printed.permissions.publish.allow,
      ...printed.permissions.subscribe.allow,
    ])
      expect(block).toContain(`"${subject}"`);
  });

  it('serves a command under those permissions, its events and replies included', async () => {
    await expect(commands.execute(new Greet('ada'))).resolves.toEqual({
      greeting: 'hello ada',
      visits: 1,
    });
  });

  it('sends a command it is permitted to, and gets the reply', async () => {
    await expect(commands.execute(new Greet('bo', 'helper'))).resolves.toEqual({
      helped: 'bo',
    });
    expect(ran).toContain('help bo');
  });

  it('is refused by NATS when it sends a command not permitted: a typed error to the sender, and the app stays up', async () => {
    await expect(commands.execute(new Greet('cy', 'vault'))).resolves.toEqual({
      refused: 'NOT_PERMITTED',
      subject: `chronicle.${namespace}.command.vault.Open`,
    });
    expect(ran).not.toContain('open cy');
    expect(desk.running).toBe(true);
    await expect(commands.execute(new Greet('cy'))).resolves.toMatchObject({
      greeting: 'hello cy',
    });
    expect(desk.log).toContain(
      `NATS refused to let this app publish to "chronicle.${namespace}.command.vault.Open"`,
    );
  });

  it('publishes the error message of a failed command, and its error handler gets it', async () => {
    await expect(
      commands.execute(new Greet('dee', 'fail')),
    ).rejects.toBeInstanceOf(RemoteHandlerError);
    await eventually(
      () => desk.log.includes('error handled: desk.Greet'),
      "desk's error handler got the error message",
    );
  });

  it('was refused nothing else, and never printed a password', async () => {
    // A refusal arrives after the publish it answers: let the last ones land.
    await commands.execute(new Greet('eve'));
    const refusals = desk.log.match(
      /NATS refused to let this app [^"]*"[^"]*"/g,
    );
    expect(refusals).toEqual([
      `NATS refused to let this app publish to "chronicle.${namespace}.command.vault.Open"`,
    ]);
    expect(desk.log).not.toMatch(/Permissions Violation/i);
    expect(desk.log).not.toContain(DESK_PASSWORD);
    expect(desk.log).not.toContain(CALLER_PASSWORD);
  });
});
