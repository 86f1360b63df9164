import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import {
  ChronicleModule,
  MessageGateway,
  MessageLog,
  MessageLogWriter,
  PgSqlClient,
  type MessageLogSearchPage,
  type MessageTrace,
} from '@chronicle/core';
import { DATABASE_URL, freshSchema } from '../libs/core/test/databases.js';
import { Deposit } from '../libs/core/test/message-log.fixture.js';
import {
  mirrored,
  MirrorModule,
} from '../libs/core/test/message-log-trace.fixture.js';
import { FAST_TRACKING } from '../libs/core/test/tracking.fixture.js';
import { waitUntil } from '../libs/core/test/wait-until.js';

const execute = promisify(execFile);
const bin = fileURLToPath(
  new URL('../libs/core/bin/chronicle.js', import.meta.url),
);

/** Runs the built `chronicle` bin as a user would (with more environment, if given). */
async function chronicle(...args: string[]) {
  return chronicleWith({}, ...args);
}

async function chronicleWith(env: Record<string, string>, ...args: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      env: args.includes('--data-dir')
        ? { ...process.env, DATABASE_URL: '', ...env }
        : { ...process.env, DATABASE_URL, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('chronicle log and chronicle trace, on the built bin', () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  const schema = freshSchema('clilog');
  let app: INestApplicationContext;
  let log: MessageLog;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { client: PgSqlClient.fromPool(pool), schema },
          tracking: { ...FAST_TRACKING, instanceId: 'ledger-1' },
        }),
        MirrorModule,
      ],
    }).compile();
    app = await moduleRef.init();
    log = app.get(MessageLog);
    mirrored.done.length = 0;
    await app
      .get(MessageGateway)
      .send(new Deposit('a-1', 5), { id: 'deposit-1' });
    await waitUntil(() => mirrored.done.length === 1, 'the mirror ran');
    await app.get(MessageLogWriter).flush();
    await waitUntil(async () => {
      const trace = await log.trace('deposit-1');
      return trace?.messages === 6;
    }, 'the whole conversation logged');
  });

  afterAll(async () => {
    await app.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('lists both commands in the dispatcher help', async () => {
    const help = await chronicle('--help');
    expect(help.code).toBe(0);
    expect(help.stderr).toMatch(/^ {2}log +list the message log/m);
    expect(help.stderr).toMatch(/^ {2}trace +print the tree/m);
    const logHelp = await chronicle('log', '--help');
    expect(logHelp.code).toBe(0);
    expect(logHelp.stdout).toContain('--where <field=value>');
  });

  it('lists failures of a type, handled by an app, in the last hour', async () => {
    const listed = await chronicle(
      'log',
      '--type',
      'ledger.Withdraw',
      '--since',
      '1h',
      '--failed',
      '--app',
      'ledger',
      '--kind',
      'command',
      '--schema',
      schema,
    );
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\S+Z {2}command {3}ledger\.Withdraw {2}✗ rejected {2}ledger {2}[\d.]+ms {2}\S+ {2}correlation deposit-1 {2}OVERDRAWN: Account b-1 would be overdrawn\.$/,
    );
  });

  it('pages a conversation with --limit and --after, newest first', async () => {
    const first = await chronicle(
      'log',
      '--correlation',
      'deposit-1',
      '--kind',
      'command',
      '--limit',
      '2',
      '--schema',
      schema,
    );
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('ledger.Withdraw');
    expect(lines[1]).toContain('ledger.Deposit');
    const next = /^next: --after (\S+)$/.exec(lines[2])?.[1];
    expect(next).toBeDefined();
    const second = await chronicle(
      'log',
      '--correlation',
      'deposit-1',
      '--kind',
      'command',
      '--limit',
      '2',
      '--after',
      next ?? '',
      '--schema',
      schema,
    );
    expect(second.code).toBe(0);
    const rest = second.stdout.trimEnd().split('\n');
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatch(
      /ledger\.Deposit {2}ok {2}ledger {2}\S+ {2}deposit-1$/,
    );
  });

  it('reads the schema from CHRONICLE_SCHEMA, as the apps do, when --schema is not given', async () => {
    const listed = await chronicleWith(
      { CHRONICLE_SCHEMA: schema },
      'log',
      '--stream',
      'account-b-1',
      '--json',
    );
    expect(listed.code).toBe(0);
    const { rows } = JSON.parse(listed.stdout) as { rows: { id: string }[] };
    expect(rows.length).toBeGreaterThan(0);
  });

  it('finds by stream and by payload field, as JSON', async () => {
    const byStream = await chronicle(
      'log',
      '--stream',
      'account-b-1',
      '--json',
      '--schema',
      schema,
    );
    expect(byStream.code).toBe(0);
    const page = JSON.parse(byStream.stdout) as MessageLogSearchPage;
    expect(page.rows.map((r) => [r.type, r.streams])).toEqual([
      ['ledger.Deposit', ['account-b-1']],
    ]);
    expect(page.next).toBeUndefined();

    const byField = await chronicle(
      'log',
      '--where',
      'account=a-1',
      '--where',
      'amount=5',
      '--json',
      '--schema',
      schema,
    );
    expect(
      (JSON.parse(byField.stdout) as MessageLogSearchPage).rows.map(
        (r) => r.id,
      ),
    ).toEqual(['deposit-1']);
    const byText = await chronicle(
      'log',
      '--where',
      'amount="5"',
      '--schema',
      schema,
    );
    expect(byText.stdout).toBe('(no rows)\n');
    const before = await chronicle(
      'log',
      '--until',
      '2020-01-01',
      '--schema',
      schema,
    );
    expect(before.stdout).toBe('(no rows)\n');
  });

  it('names the option a user got wrong, with exit code 2', async () => {
    for (const [args, named] of [
      [['--kind', 'event'], '--kind'],
      [['--since', 'yesterday'], '--since'],
      [['--after', 'garbage'], '--after'],
      [['--limit', '0'], '--limit'],
      [['--where', 'customerId'], '--where'],
    ] as const) {
      const wrong = await chronicle('log', ...args, '--schema', schema);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr.split('\n')[0]).toContain(named);
      expect(wrong.stderr).toContain('Usage: chronicle log');
    }
  });

  it('prints the correlation tree with timings and failures marked, and its JSON', async () => {
    const printed = await chronicle('trace', 'deposit-1', '--schema', schema);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trimEnd().split('\n');
    // The Withdraw's refusal is also an error message of its own (error-messages/).
    expect(lines[0]).toBe('correlation deposit-1: 6 messages, 2 failures');
    const ms = '[\\d.]+m?s';
    const patterns = [
      `^command ledger\\.Deposit {2}deposit-1 {2}\\[ledger\\] {2}\\+0ms {2}${ms} {2}ok$`,
      `^└─ event ledger\\.Deposited {2}account-a-1@\\d+ {2}\\[ledger\\] {2}\\+${ms} {2}consumers: mirror ✓$`,
      `^ {3}├─ command ledger\\.Deposit {2}\\S+ {2}\\[ledger\\] {2}\\+${ms} {2}${ms} {2}ok$`,
      `^ {3}│ {2}└─ event ledger\\.Deposited {2}account-b-1@\\d+ {2}\\[ledger\\] {2}\\+${ms}( {2}consumers: mirror [✓…])?$`,
      `^ {3}└─ command ledger\\.Withdraw {2}\\S+ {2}\\[ledger\\] {2}\\+${ms} {2}${ms} {2}✗ rejected {2}OVERDRAWN: Account b-1 would be overdrawn\\.$`,
      `^ {6}└─ error ledger\\.Withdraw {2}\\S+ {2}\\[ledger\\] {2}\\+${ms} {2}${ms} {2}✗ rejected {2}OVERDRAWN: Account b-1 would be overdrawn\\.$`,
    ];
    expect(lines.slice(2)).toHaveLength(patterns.length);
    lines
      .slice(2)
      .forEach((line, i) => expect(line).toMatch(new RegExp(patterns[i])));

    const json = await chronicle(
      'trace',
      'deposit-1',
      '--json',
      '--schema',
      schema,
    );
    expect(json.code).toBe(0);
    const tree = JSON.parse(json.stdout) as MessageTrace;
    expect(tree.root.id).toBe('deposit-1');
    expect(tree.failures).toBe(2);

    const missing = await chronicle('trace', 'no-such-id', '--schema', schema);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"no-such-id"');
  });
});

describe('chronicle log and chronicle trace on an embedded (PGlite) store', () => {
  let parent: string;
  let dataDir: string;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'chronicle-cli-log-'));
    dataDir = join(parent, 'ledger');
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'ledger',
          database: { dataDir },
          tracking: { ...FAST_TRACKING, instanceId: 'ledger-1' },
        }),
        MirrorModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    try {
      mirrored.done.length = 0;
      await app
        .get(MessageGateway)
        .send(new Deposit('a-2', 7), { id: 'deposit-2' });
      await waitUntil(() => mirrored.done.length === 1, 'the mirror ran');
      await app.get(MessageLogWriter).flush();
    } finally {
      await app.close();
    }
  });

  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it('lists the failures and prints the tree from the data directory', async () => {
    const listed = await chronicle(
      'log',
      '--failed',
      '--kind',
      'command',
      '--data-dir',
      dataDir,
    );
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^\S+Z {2}command {3}ledger\.Withdraw {2}✗ rejected {2}ledger {2}.*correlation deposit-2 {2}OVERDRAWN/,
    );
    const traced = await chronicle(
      'trace',
      'deposit-2',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(traced.code).toBe(0);
    const tree = JSON.parse(traced.stdout) as MessageTrace;
    expect(tree.root.id).toBe('deposit-2');
    expect(tree.root.children.map((c) => c.type)).toEqual(['ledger.Deposited']);
    expect(tree.root.children[0].children.map((c) => c.type)).toEqual([
      'ledger.Deposit',
      'ledger.Withdraw',
    ]);
  });
});
