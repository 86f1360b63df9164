import { TransportError } from '../../index.js';
import { postgresDatabase } from '../../../test/databases.js';
import {
  freshNamespace,
  OwnNatsServer,
  type OwnNatsAuth,
} from '../../../test/nats.js';
import { ShipParcel } from '../../../test/shipping.fixture.js';
import { startApp, type TestApp } from '../../../test/transport-apps.js';
import { secret } from '../../../test/secret-watch.js';

// Apps configured only by the environment, on a nats-server of the test's own
// that demands credentials: each way users put them in the environment works,
// and a refusal never prints the secret.

// A throwaway nkey user, made for these tests only.
const TOKEN = secret('s3cr3t-t0ken');
const SEED = secret(
  'SUACM6BLPHV4LJKEQ7JLFJN6476VITQXSJBL64O7ZITKZMHQN2FKGRBXRY',
);
const PUBLIC_KEY = 'UCSA3WU3CGRTPOLKVGE6YWX4DRZ2W4AQH7J4GK4PVEVZC3ZANYAF4QXD';

const CREDENTIAL_VARIABLES = [
  'NATS_URL',
  'NATS_TOKEN',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_NKEY_SEED',
  'NATS_CREDS',
] as const;

const database = postgresDatabase();
const saved = Object.fromEntries(
  CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]),
);
let server: OwnNatsServer | undefined;
const opened: TestApp[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
  await server?.stop();
  server = undefined;
  for (const name of CREDENTIAL_VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
afterAll(() => database.close());

/** Sets exactly these variables (`{port}` in a value becomes the server's port). */
function environment(variables: Partial<Record<string, string>>): void {
  for (const name of CREDENTIAL_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(variables))
    process.env[name] = value?.replace('{port}', String(server?.port));
}

/** An app with only `app` and a namespace in code: NATS from the environment. */
async function app(
  instance: string,
  namespace: string,
  handlers: boolean,
): Promise<TestApp> {
  const started = await startApp({
    instance,
    client: database.client(),
    handlers,
    chronicle: {
      app: handlers ? 'shipping' : 'shop',
      transport: { namespace },
    },
  });
  opened.push(started);
  return started;
}

describe('NATS credentials from the environment (a nats-server of our own)', () => {
  it.each<[string, OwnNatsAuth, Record<string, string>]>([
    [
      'a token in NATS_URL',
      { token: TOKEN },
      { NATS_URL: 'nats://s3cr3t-t0ken@127.0.0.1:{port}' },
    ],
    [
      'NATS_TOKEN',
      { token: TOKEN },
      { NATS_URL: 'nats://127.0.0.1:{port}', NATS_TOKEN: TOKEN },
    ],
    [
      'user and password in NATS_URL',
      { user: 'svc-user', pass: '4711' },
      { NATS_URL: 'nats://svc-user:4711@127.0.0.1:{port}' },
    ],
    [
      'NATS_USER and NATS_PASSWORD',
      { user: 'svc-user', pass: 'S3cr3tPassw0rd' },
      {
        NATS_URL: 'nats://127.0.0.1:{port}',
        NATS_USER: 'svc-user',
        NATS_PASSWORD: 'S3cr3tPassw0rd',
      },
    ],
    [
      'NATS_NKEY_SEED',
      { nkey: PUBLIC_KEY },
      { NATS_URL: 'nats://127.0.0.1:{port}', NATS_NKEY_SEED: SEED },
    ],
  ])('authenticates with %s', async (_, auth, variables) => {
    server = await OwnNatsServer.start(auth);
    environment(variables);
    const namespace = freshNamespace();
    await app('handler', namespace, true);
    const caller = await app('caller', namespace, false);
    await expect(
      caller.commands.execute(new ShipParcel('p-1', 1)),
    ).resolves.toMatchObject({ handledBy: 'handler' });
  });

  it('refuses a wrong password at start, saying where it came from, never what it is', async () => {
    server = await OwnNatsServer.start({ user: 'svc-user', pass: 'right-one' });
    environment({
      NATS_URL: 'nats://svc-user:S3cr3tPassw0rd@127.0.0.1:{port}',
    });
    const error = (await app('caller', freshNamespace(), false).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain(
      `Could not connect to NATS at nats://127.0.0.1:${server.port} ` +
        '(with user "svc-user" and a password from the server URL)',
    );
    expect(error.message).toMatch(/authorization/i);
    expect(error.message).not.toContain('S3cr3tPassw0rd');
  });
});
