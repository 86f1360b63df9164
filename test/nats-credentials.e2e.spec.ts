import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { freshNamespace, OwnNatsServer } from '../libs/core/test/nats.js';
import { Microclient } from './support/microclient.js';

// Processes configured only by their environment, on a nats-server of the
// test's own that wants a token: the app and `chronicle send` authenticate
// with what users put there, and a refusal never prints the secret.

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}libs/core/bin/chronicle.js`;
const parcelApp = `${root}test/support/parcel-app.mjs`;
const TOKEN = 's3cr3t-t0ken-4711';

/** Runs a node script with exactly these NATS variables; never throws. */
async function run(
  script: string,
  args: string[],
  env: Record<string, string>,
) {
  const clean = { ...process.env };
  for (const name of Object.keys(clean))
    if (name.startsWith('NATS_')) delete clean[name];
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      [script, ...args],
      { env: { ...clean, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('NATS credentials from the environment, across processes', () => {
  let server: OwnNatsServer;
  let parcels: Microclient;
  const namespace = freshNamespace();

  beforeAll(async () => {
    server = await OwnNatsServer.start({ token: TOKEN });
    parcels = Microclient.start(parcelApp, {
      NATS_URL: `nats://${TOKEN}@127.0.0.1:${server.port}`,
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('creds'),
      INSTANCE: 'p1',
    });
    await parcels.ready();
  });

  afterAll(async () => {
    parcels.stop();
    await parcels.exited;
    await server.stop();
  });

  it('serves an app whose token is in NATS_URL, and `chronicle send` with NATS_TOKEN', async () => {
    const { code, stdout } = await run(
      bin,
      ['send', 'ship.ShipParcel', '{"parcelId":"p-1","weightKg":2}'],
      {
        NATS_URL: `nats://127.0.0.1:${server.port}`,
        NATS_TOKEN: TOKEN,
        CHRONICLE_NAMESPACE: namespace,
      },
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ parcelId: 'p-1', handledBy: 'p1' });
  });

  it('refuses a wrong token in `chronicle send` without printing it', async () => {
    const { code, stderr } = await run(
      bin,
      ['send', 'ship.ShipParcel', '{"parcelId":"p-2","weightKg":2}'],
      {
        NATS_URL: `nats://wrong-${TOKEN}@127.0.0.1:${server.port}`,
        CHRONICLE_NAMESPACE: namespace,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Could not connect to NATS at nats://127.0.0.1:${server.port} (with a token from the server URL)`,
    );
    expect(stderr).not.toContain(TOKEN);
  });

  it('stops an app with a wrong password at start, and its log names no secret', async () => {
    const { code, stdout, stderr } = await run(parcelApp, [], {
      NATS_URL: `nats://127.0.0.1:${server.port}`,
      NATS_USER: 'svc-user',
      NATS_PASSWORD: 'S3cr3tPassw0rd',
      DATABASE_URL,
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('creds'),
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain(
      '(with user "svc-user" and a password from the environment)',
    );
    expect(stdout + stderr).not.toContain('S3cr3tPassw0rd');
  });
});
