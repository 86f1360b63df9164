import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '../libs/core/test/nats.js';

/*
 * A newcomer's first hour in this repository, as README.md and
 * docs/guides/schematics.md tell it, with the commands typed literally, in a
 * copy of the workspace: the schematics built by `npm ci`'s prepare step
 * (nothing else built them), `nest g microclient library -p library` with no
 * terminal, `npm run start:library`, `npx chronicle send --module` to the
 * app's embedded store, and one spec run with `npm test -- apps/library`.
 */

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PORT = '3947';
const MODULE = 'apps/library/dist/app.module.js';
const DATA_DIR = '.chronicle-data/library';
const CREATE = [
  'library.CreateLibrary',
  '{"libraryId":"library-1","title":"First"}',
];

// oxlint-disable-next-line no-control-regex -- matching the escape is the point
const ANSI_COLOUR = /\u001b\[[0-9;]*m/g;

let work: string;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** A shell command in the copy, stdin not a terminal (nothing to read). */
function sh(command: string, env: Record<string, string> = {}): Run {
  const run = spawnSync('bash', ['-c', command], {
    cwd: work,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  return {
    code: run.status,
    output: `${run.stdout}${run.stderr}`.replace(ANSI_COLOUR, ''),
  };
}

/**
 * This workspace's files (what git has, and not ignored), what the build
 * wrote but not the built schematics, and node_modules linked from here with
 * @chronicle/* pointing at the copy's libs: a clone after `npm ci` but before
 * its prepare step.
 */
function copyWorkspace(): string {
  const target = mkdtempSync(join(tmpdir(), 'chronicle-newcomer-'));
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard'],
    { cwd: REPO, encoding: 'utf8' },
  )
    .split('\n')
    .filter((file) => file !== '' && existsSync(join(REPO, file)));
  // What `npm run build` wrote (so the copy's builds only add the new app),
  // but not the schematics: a clone has them only after `npm ci`'s prepare.
  const built = ['libs', 'apps']
    .flatMap((folder) =>
      readdirSync(join(REPO, folder)).map((name) => `${folder}/${name}/dist`),
    )
    .concat('bench/dist')
    .filter(
      (dist) => dist !== 'libs/schematics/dist' && existsSync(join(REPO, dist)),
    );
  execFileSync('bash', ['-c', `tar -cf - -T - | tar -xf - -C '${target}'`], {
    cwd: REPO,
    input: [...files, ...built].join('\n'),
  });
  mkdirSync(join(target, 'node_modules/@chronicle'), { recursive: true });
  mkdirSync(join(target, 'node_modules/.bin'));
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry === '@chronicle' || entry === '.bin') continue;
    symlinkSync(
      join(REPO, 'node_modules', entry),
      join(target, 'node_modules', entry),
    );
  }
  // The commands; `chronicle` from the copy's package, as npm links it.
  for (const bin of readdirSync(join(REPO, 'node_modules/.bin'))) {
    symlinkSync(
      bin === 'chronicle'
        ? join(target, 'libs/core/bin/chronicle.js')
        : realpathSync(join(REPO, 'node_modules/.bin', bin)),
      join(target, 'node_modules/.bin', bin),
    );
  }
  for (const lib of readdirSync(join(target, 'libs'))) {
    symlinkSync(
      join(target, 'libs', lib),
      join(target, 'node_modules/@chronicle', lib),
    );
  }
  return target;
}

/** `npm run start:library` in its own process group, and its output. */
function startLibrary(): { stop(): Promise<void>; output(): string } {
  const child = spawn('npm', ['run', 'start:library'], {
    cwd: work,
    env: { ...process.env, PORT, DATABASE_URL: '', NATS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  return {
    output: () => output,
    async stop() {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

async function health(): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${PORT}/health`);
    return await response.text();
  } catch {
    return '';
  }
}

beforeAll(() => {
  work = copyWorkspace();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a newcomer in this repository', () => {
  let generated: Run;

  it('builds the schematics in the prepare step `npm ci` runs', () => {
    expect(existsSync(join(work, 'libs/schematics/dist'))).toBe(false);
    expect(sh('npm run prepare').code).toBe(0);
    expect(existsSync(join(work, 'libs/schematics/dist/collection.json'))).toBe(
      true,
    );
  }, 120_000);

  it('sees the Nest CLI stop at its project prompt without -p, and writes nothing', () => {
    // What the docs warn of: in a monorepo the CLI asks which project.
    const asked = sh('npx nest g microclient library');
    expect(asked.code).toBe(1);
    expect(asked.output).toContain(
      'Which project would you like to generate to?',
    );
    expect(existsSync(join(work, 'apps/library'))).toBe(false);
  }, 120_000);

  it('generates with `nest g microclient library -p library`, no terminal needed', () => {
    const projects = Object.keys(
      JSON.parse(readFileSync(join(work, 'nest-cli.json'), 'utf8')).projects,
    );
    generated = sh('npx nest g microclient library -p library');
    expect(generated.code).toBe(0);
    expect(existsSync(join(work, 'apps/library/src/app.module.ts'))).toBe(true);
    // The user's order of projects stays; the new one comes last.
    expect(
      Object.keys(
        JSON.parse(readFileSync(join(work, 'nest-cli.json'), 'utf8')).projects,
      ),
    ).toEqual([...projects, 'library']);
    expect(
      readFileSync(
        join(work, 'apps/library/src/library/create-library.handler.ts'),
        'utf8',
      ),
    ).toContain('private readonly libraries: AggregateRepository<Library>');
  }, 120_000);

  it('is told how to start, drive and test the app', () => {
    expect(generated.output).toContain('npm run start:library');
    expect(generated.output).toContain(
      `npx chronicle send ${CREATE[0]} '${CREATE[1]}' --module ${MODULE} --data-dir ${DATA_DIR}`,
    );
    expect(generated.output).toContain('npm test -- apps/library');
  });

  it('starts it embedded with `npm run start:library`; `chronicle send --module` says to stop it first', async () => {
    const app = startLibrary();
    try {
      await eventually(
        async () => (await health()).includes('"status":"ok"'),
        'GET /health of npm run start:library answers ok',
        240_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${app.output()}`);
      });
      expect(await health()).toContain('"driver":"pglite"');
      const refused = sh(
        `npx chronicle send ${quoted(CREATE)} --module ${MODULE} --data-dir ${DATA_DIR}`,
      );
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('is in use by process');
      expect(refused.output).toContain('stop the app');
    } finally {
      await app.stop();
    }
  }, 300_000);

  it('sends the app a command with `npx chronicle send --module` while it is stopped', () => {
    const sent = sh(
      `npx chronicle send ${quoted(CREATE)} --module ${MODULE} --data-dir ${DATA_DIR}`,
    );
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.output)).toEqual({ libraryId: 'library-1' });
    const shown = sh(
      `npx chronicle show library.Library library-1 --json --data-dir ${DATA_DIR}`,
    );
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.output).events).toMatchObject([
      { type: 'library.LibraryCreated', payload: { title: 'First' } },
    ]);
  }, 120_000);

  it('runs the app’s spec with `npm test -- apps/library`', () => {
    const run = sh('npm test -- apps/library');
    // Every generated spec passes, however many the schematic writes.
    expect(run.output).toMatch(/Tests: +(\d+) passed, \1 total/);
    expect(run.code).toBe(0);
  }, 300_000);

  it('is told the command that works when typing `npx jest apps/library`', () => {
    const run = sh('npx jest apps/library');
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('Run `npm test -- <path>`');
  }, 60_000);
});

function quoted(args: readonly string[]): string {
  return args.map((arg) => `'${arg}'`).join(' ');
}
