import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsConfigurationError } from '../transport.errors.js';
import { toConnectionOptions } from './nats-connection-options.js';
import type { NatsTransportOptions } from './nats-transport.options.js';

// A throwaway nkey user, made for these tests only.
const SEED = 'SUACM6BLPHV4LJKEQ7JLFJN6476VITQXSJBL64O7ZITKZMHQN2FKGRBXRY';
const PUBLIC_KEY = 'UCSA3WU3CGRTPOLKVGE6YWX4DRZ2W4AQH7J4GK4PVEVZC3ZANYAF4QXD';

const connectWith = (
  env: NodeJS.ProcessEnv,
  options: NatsTransportOptions = {},
) => toConnectionOptions(options, env);

/** What the client sends the server in CONNECT, for a given nonce. */
function signedIn(connection: ReturnType<typeof connectWith>['connection']) {
  const authenticator = connection.authenticator;
  if (typeof authenticator !== 'function') throw new Error('no authenticator');
  return authenticator('nonce') as unknown as Record<string, unknown>;
}

function refusal(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NatsConfigurationError);
    return error as Error;
  }
  throw new Error('expected a NatsConfigurationError');
}

describe('NATS credentials from the environment and the URL', () => {
  it('reads a token from NATS_URL, and takes it out of the server URL', () => {
    const { connection, auth } = connectWith({
      NATS_URL: 'nats://s3cr3t@nats.internal:4222',
    });
    expect(connection.token).toBe('s3cr3t');
    expect(connection.servers).toEqual(['nats://nats.internal:4222']);
    expect(auth.source).toBe('url');
  });

  it('reads user and password from NATS_URL, a numeric password included (never read as a port)', () => {
    const { connection } = connectWith({
      NATS_URL:
        'nats://svc-user:1234@nats.internal:4222,nats://svc-user:1234@nats-2:4222',
    });
    expect(connection).toMatchObject({ user: 'svc-user', pass: '1234' });
    expect(connection.servers).toEqual([
      'nats://nats.internal:4222',
      'nats://nats-2:4222',
    ]);
  });

  it('decodes percent-encoded user info', () => {
    const { connection } = connectWith({
      NATS_URL: 'nats://svc:p%40ss%3Aw%2Crd@nats.internal:4222',
    });
    expect(connection.pass).toBe('p@ss:w,rd');
  });

  it('refuses servers whose URLs carry different credentials, without printing them', () => {
    const error = refusal(() =>
      connectWith({
        NATS_URL: 'nats://a:pw-1st@n1:4222,nats://b:pw-2nd@n2:4222',
      }),
    );
    expect(error.message).toContain('nats://a:***@n1:4222');
    expect(error.message).not.toMatch(/pw-1st|pw-2nd/);
  });

  it('reads NATS_TOKEN', () => {
    const { connection, auth } = connectWith({
      NATS_URL: 'nats://nats.internal:4222',
      NATS_TOKEN: 't0ken',
    });
    expect(connection.token).toBe('t0ken');
    expect(auth.source).toBe('environment');
  });

  it('reads NATS_USER and NATS_PASSWORD, and refuses one without the other', () => {
    expect(
      connectWith({ NATS_USER: 'svc', NATS_PASSWORD: 'pw' }).connection,
    ).toMatchObject({ user: 'svc', pass: 'pw' });
    expect(refusal(() => connectWith({ NATS_USER: 'svc' })).message).toContain(
      'NATS_PASSWORD is not set',
    );
    expect(
      refusal(() => connectWith({ NATS_PASSWORD: 'pw' })).message,
    ).toContain('NATS_USER is not set');
  });

  it('reads NATS_NKEY_SEED and signs the server nonce with it', () => {
    const { connection } = connectWith({ NATS_NKEY_SEED: SEED });
    expect(signedIn(connection)).toMatchObject({ nkey: PUBLIC_KEY });
    expect(signedIn(connection).sig).toEqual(expect.any(String));
  });

  it('reads the creds file NATS_CREDS names, and names a file it cannot read', () => {
    const folder = mkdtempSync(join(tmpdir(), 'creds-'));
    const file = join(folder, 'app.creds');
    writeFileSync(
      file,
      [
        '-----BEGIN NATS USER JWT-----',
        'eyJ0eXAiOiJKV1QifQ.the-user-jwt.signature',
        '------END NATS USER JWT------',
        '',
        '-----BEGIN USER NKEY SEED-----',
        SEED,
        '------END USER NKEY SEED------',
        '',
      ].join('\n'),
    );
    const { connection } = connectWith({ NATS_CREDS: file });
    expect(signedIn(connection)).toMatchObject({
      jwt: 'eyJ0eXAiOiJKV1QifQ.the-user-jwt.signature',
    });

    const missing = join(folder, 'missing.creds');
    expect(
      refusal(() => connectWith({ NATS_CREDS: missing })).message,
    ).toContain(missing);
  });

  it('refuses two ways to authenticate in the environment', () => {
    const error = refusal(() =>
      connectWith({
        NATS_TOKEN: 't0ken',
        NATS_USER: 'svc',
        NATS_PASSWORD: 'x',
      }),
    );
    expect(error.message).toContain('NATS_TOKEN and NATS_USER/NATS_PASSWORD');
    expect(error.message).not.toContain('t0ken');
  });

  it('prefers the options to the URL, and the URL to the environment', () => {
    const env = {
      NATS_URL: 'nats://url-token@nats.internal:4222',
      NATS_TOKEN: 'env-token',
    };
    expect(connectWith(env, { token: 'option-token' }).connection.token).toBe(
      'option-token',
    );
    expect(connectWith(env).connection.token).toBe('url-token');
    const { connection } = connectWith(env, {
      servers: 'nats://nats.internal:4222',
    });
    expect(connection.token).toBe('env-token');
  });

  it('treats empty variables as unset', () => {
    const { connection, auth } = connectWith({
      NATS_TOKEN: '',
      NATS_USER: '',
      NATS_PASSWORD: '',
    });
    expect(connection.token).toBeUndefined();
    expect(auth.source).toBe('none');
  });
});
