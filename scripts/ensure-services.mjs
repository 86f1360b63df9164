#!/usr/bin/env node
// Runs before the test suite: the tests need a Node.js the project supports,
// a real PostgreSQL and a real NATS with JetStream. Failing here, with the
// address and a fix, beats a wall of connection-refused errors from Jest (or
// a syntax error from a dependency on too old a Node), and tests are never
// skipped. Built-ins only, and plain syntax, so it runs before/without
// `npm ci` and on any Node it has to turn away.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(repoRoot, 'docker-compose.yml');

checkNodeVersion();

// Same defaults as the tests. `compose` names the docker-compose.yml service
// that can stand in for it, and the port that service publishes.
const services = [
  {
    name: 'PostgreSQL',
    env: 'DATABASE_URL',
    ...address(
      process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
      5432,
    ),
    compose: { service: 'postgres', port: 5432 },
    // SSLRequest: any PostgreSQL answers it with a single 'S' or 'N' byte.
    probe: {
      send: Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]),
      expect: (b) => /^[SN]$/.test(b.toString('latin1')),
    },
  },
  {
    name: 'NATS',
    env: 'NATS_URL',
    // NATS clients accept a comma-separated server list; the first one is enough to check.
    ...address(
      (process.env.NATS_URL || 'nats://127.0.0.1:4222').split(',')[0].trim(),
      4222,
    ),
    compose: { service: 'nats', port: 4222 },
    // A NATS server greets every client with an INFO line.
    probe: { expect: (b) => b.toString('latin1').startsWith('INFO ') },
  },
];

let down = await unreachable();
if (down.length === 0) {
  console.log(
    `services ok: ${services.map((s) => `${s.name} ${hostPort(s)}`).join(', ')}`,
  );
  process.exit(0);
}

// Docker can only help when the missing service is expected where compose
// publishes it (loopback, same port); for a remote URL it would start the
// wrong thing.
const fixable = down.every(
  (s) => isLoopback(s.host) && s.port === s.compose.port,
);
const composeFound = existsSync(composeFile);
if (fixable && composeFound && dockerEngineAnswers()) {
  // Start only the missing services, so a locally installed PostgreSQL or NATS
  // that is already up does not clash with a container over the same port.
  const names = down.map((s) => s.compose.service);
  console.log(
    `${describe(down)} not reachable; starting ${names.join(', ')} with docker compose...`,
  );
  const up = spawnSync('docker', ['compose', 'up', '-d', '--wait', ...names], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (up.status !== 0) {
    fail(down, '`docker compose up -d --wait` failed (see its output above).');
  }
  down = await unreachable();
  if (down.length === 0) process.exit(0);
  fail(down, 'They are still unreachable after `docker compose up`.');
}
fail(
  down,
  !fixable
    ? 'Not started automatically: docker-compose.yml only serves the default addresses.'
    : !composeFound
      ? `Not started automatically: ${composeFile} is missing.`
      : 'No Docker engine answered (`docker info` failed), so nothing was started.',
);

// --- helpers ---------------------------------------------------------------

// package.json's engines.node (`^22.22.3 || ^24.15.0 || >=26.0.0`): only the
// comparators it uses (^, >=, >, <=, <, exact) are understood; anything else
// is not checked here, and npm's engine-strict still guards installs.
function checkNodeVersion() {
  const { engines } = JSON.parse(
    readFileSync(join(repoRoot, 'package.json'), 'utf8'),
  );
  const range = engines?.node;
  if (!range) return;
  const current = process.versions.node.split('.').map(Number);
  const allowed = satisfies(current, range);
  if (allowed !== false) return;
  console.error(
    [
      '',
      `This project needs Node.js ${range} (package.json "engines"); this is ${process.version}.`,
      'Its dependencies (@nestjs/schematics, @angular-devkit/*, commander, file-type,',
      '@nats-io/nuid) do not support older releases.',
      '',
      'To fix, install a supported Node.js (e.g. `nvm install 24`, or from https://nodejs.org),',
      'then run `npm ci` again.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

/** true, false, or undefined when the range uses syntax this does not read. */
function satisfies(version, range) {
  let understood = true;
  const matches = range.split('||').some((set) =>
    set
      .trim()
      .split(/\s+/)
      .every((comparator) => {
        const m = /^(\^|>=|>|<=|<|=)?v?(\d+)\.(\d+)\.(\d+)$/.exec(comparator);
        if (!m) {
          understood = false;
          return false;
        }
        const wanted = [Number(m[2]), Number(m[3]), Number(m[4])];
        const order = compare(version, wanted);
        switch (m[1]) {
          case '^':
            return version[0] === wanted[0] && order >= 0;
          case '>=':
            return order >= 0;
          case '>':
            return order > 0;
          case '<=':
            return order <= 0;
          case '<':
            return order < 0;
          default:
            return order === 0;
        }
      }),
  );
  return matches ? true : understood ? false : undefined;
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

async function unreachable() {
  const answers = await Promise.all(services.map((s) => speaks(s)));
  return services.filter((_, i) => !answers[i]);
}

// Connect and exchange one message rather than just opening a socket: a proxy
// or some other program on the port also accepts connections, and would only
// turn this clear failure into confusing test failures.
function speaks({ host, port, probe }, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => probe.send && socket.write(probe.send));
    socket.once('data', (data) => done(probe.expect(data)));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

// `docker` may be installed with no engine behind it (or hang on a dead
// socket), so ask the engine itself, with a time limit.
function dockerEngineAnswers() {
  const info = spawnSync('docker', ['info'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return info.status === 0;
}

function address(url, defaultPort) {
  let parsed;
  try {
    // NATS also accepts a bare host:port.
    parsed = new URL(url.includes('://') ? url : `nats://${url}`);
  } catch {
    console.error(`ensure-services: cannot parse "${redact(url)}" as a URL.`);
    process.exit(1);
  }
  const schemes = ['postgres:', 'postgresql:', 'nats:', 'tls:'];
  if (!schemes.includes(parsed.protocol)) {
    console.error(
      `ensure-services: unsupported scheme "${parsed.protocol}" (expected one of ${schemes.join(' ')}).`,
    );
    process.exit(1);
  }
  return {
    // IPv6 hosts come back bracketed ("[::1]"); net.connect wants them bare.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: Number(parsed.port) || defaultPort,
  };
}

// The user info of a URL is a password or a token: never print it. (The same
// rule as @chronicle/core's redactUrl, which this script cannot import: it
// runs before the build.)
function redact(url) {
  return url.replace(/^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)[^,]*@/i, '$1***@');
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function hostPort({ host, port }) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describe(list) {
  return list.map((s) => `${s.name} at ${hostPort(s)}`).join(' and ');
}

function fail(list, reason = '') {
  const lines = [
    '',
    `The tests need ${list.length > 1 ? 'these services' : 'this service'}, which did not answer:`,
    ...list.map(
      (s) =>
        `  - ${s.name} at ${hostPort(s)} (from ${s.env}${process.env[s.env] ? '' : ', default'})`,
    ),
    ...(reason ? ['', reason] : []),
    '',
    'To fix, either:',
    `  - run \`docker compose up -d\` in ${repoRoot} (needs a running Docker engine; it serves`,
    '    PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222, the defaults), or',
    '  - set DATABASE_URL / NATS_URL to a running PostgreSQL 13+ and NATS 2.9+ with JetStream (-js),',
    '    e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test NATS_URL=nats://127.0.0.1:4222',
    '',
  ];
  console.error(lines.join('\n'));
  process.exit(1);
}
