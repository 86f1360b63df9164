import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER, NatsTransport, TransportError } from '../index.js';
import { OwnNatsServer } from '../../../test/nats.js';
import { secret } from '../../../test/secret-watch.js';

// TLS as users deploy it, configured by the environment only: a nats-server
// of the test's own with a CA of the test's, that verifies client
// certificates and wants a user and password on top.

const PASSWORD = secret('tls-pa55-w0rd-2718');
const VARIABLES = [
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TLS_CA',
  'NATS_TLS_CERT',
  'NATS_TLS_KEY',
] as const;

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...key,
    '-days',
    '1',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=chronicle-test-ca',
  );
  const uses = {
    server:
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    client: 'extendedKeyUsage=clientAuth\n',
  };
  for (const [name, extensions] of Object.entries(uses)) {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      'req',
      ...key,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=chronicle-test-${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    );
  }
}

describe('NATS over TLS with client certificates, from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-nats-tls-'));
  const saved = Object.fromEntries(VARIABLES.map((n) => [n, process.env[n]]));
  let server: OwnNatsServer;
  const opened: NatsTransport[] = [];

  beforeAll(async () => {
    makeCertificates(dir);
    server = await OwnNatsServer.start({
      config: [
        'tls {',
        `  cert_file: "${join(dir, 'server.pem')}"`,
        `  key_file: "${join(dir, 'server-key.pem')}"`,
        `  ca_file: "${join(dir, 'ca.pem')}"`,
        '  verify: true',
        '}',
        `authorization { users: [ { user: "tls-app", password: "${PASSWORD}" } ] }`,
      ].join('\n'),
    });
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function environment(variables: Partial<Record<string, string>>): void {
    for (const name of VARIABLES) delete process.env[name];
    Object.assign(process.env, {
      NATS_URL: server.url,
      NATS_USER: 'tls-app',
      NATS_PASSWORD: PASSWORD,
      ...variables,
    });
  }

  it('connects with NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY, and carries requests', async () => {
    environment({
      NATS_TLS_CA: join(dir, 'ca.pem'),
      NATS_TLS_CERT: join(dir, 'client.pem'),
      NATS_TLS_KEY: join(dir, 'client-key.pem'),
    });
    const transport = await NatsTransport.connect({});
    opened.push(transport);
    await transport.serve('tls.echo', 'tls.echo', async (request) => ({
      headers: {},
      body: `echo ${request.body}`,
    }));
    const reply = await transport.request(
      'tls.echo',
      { headers: { [HEADER.id]: 'm-1' }, body: 'hello' },
      { timeoutMs: 5_000, messageType: 'tls.Echo' },
    );
    expect(reply.body).toBe('echo hello');
    expect(transport.status()).toMatchObject({ connected: true });
  });

  // (Without a client certificate the server ends the handshake and the
  // client reports only its connect timeout, 20 s later: not waited for here.)
  it('does not trust the server without NATS_TLS_CA, and the error never shows the password', async () => {
    environment({
      NATS_TLS_CERT: join(dir, 'client.pem'),
      NATS_TLS_KEY: join(dir, 'client-key.pem'),
    });
    const refused = await NatsTransport.connect({}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransportError);
    expect((refused as Error).message).toMatch(/certificate/);
    expect((refused as Error).message).not.toContain(PASSWORD);
  });

  it('refuses a certificate without its key before connecting', async () => {
    environment({ NATS_TLS_CERT: join(dir, 'client.pem') });
    await expect(NatsTransport.connect({})).rejects.toThrow(
      /NATS_TLS_KEY is not set/,
    );
  });
});
