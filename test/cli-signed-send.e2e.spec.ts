import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSigningKey } from '@chronicle/core';
import { freshSchema } from '../libs/core/test/databases.js';
import { freshNamespace } from '../libs/core/test/nats.js';
import { Microclient } from './support/microclient.js';
import { secret } from '../libs/core/test/secret-watch.js';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}libs/core/bin/chronicle.js`;

// Keys made as the guide says (npx chronicle keygen), trusted through the
// environment: the running app and the CLI each sign as themselves.
const parcelsKey = generateSigningKey();
secret(parcelsKey.privateKey);
const opsKey = generateSigningKey();
secret(opsKey.privateKey);
const CHRONICLE_TRUSTED_KEYS = JSON.stringify({
  parcels: parcelsKey.publicKey,
  ops: opsKey.publicKey,
});

async function chronicle(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('chronicle send to an app that accepts only signed messages', () => {
  const namespace = freshNamespace();
  let parcels: Microclient;

  beforeAll(async () => {
    parcels = Microclient.start(`${root}test/support/parcel-app.mjs`, {
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('cli_signed'),
      INSTANCE: 'p1',
      CHRONICLE_SIGNING_KEY: parcelsKey.privateKey,
      CHRONICLE_TRUSTED_KEYS,
    });
    await parcels.ready();
  });

  afterAll(async () => {
    parcels.stop();
    await parcels.exited;
  });

  it('runs a command the CLI signed with a trusted key, under the name it is trusted for', async () => {
    const { code, stdout } = await chronicle(
      { CHRONICLE_SIGNING_KEY: opsKey.privateKey, CHRONICLE_TRUSTED_KEYS },
      'send',
      'ship.ShipParcel',
      '{"parcelId":"p-1","weightKg":2}',
      '--namespace',
      namespace,
      '--app',
      'ops',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ parcelId: 'p-1', handledBy: 'p1' });
  });

  it('is refused, saying why, when the CLI does not sign', async () => {
    const { code, stderr } = await chronicle(
      { CHRONICLE_SIGNING_KEY: '', CHRONICLE_TRUSTED_KEYS: '' },
      'send',
      'ship.ShipParcel',
      '{"parcelId":"p-2","weightKg":2}',
      '--namespace',
      namespace,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('is not signed');
  });

  it('prints a key pair with keygen', async () => {
    const { code, stdout } = await chronicle({}, 'keygen', '--json');
    expect(code).toBe(0);
    const pair = JSON.parse(stdout) as {
      privateKey: string;
      publicKey: string;
    };
    expect(Buffer.from(pair.privateKey, 'base64url')).toHaveLength(32);
    expect(Buffer.from(pair.publicKey, 'base64url')).toHaveLength(32);
  });
});
