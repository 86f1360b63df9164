import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chronicleRepository, repositoryProjects } from './workspaces.js';

// The real `nest g`, in a copy of this repository's workspace whose
// nest-cli.json names @chronicle/schematics as its collection: the CLI finds
// the collection through node_modules, as in a user's project.

const NODE_MODULES = fileURLToPath(
  new URL('../../../node_modules', import.meta.url),
);
const NEST = join(NODE_MODULES, '@nestjs/cli/bin/nest.js');

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'chronicle-nest-g-'));
  for (const [path, text] of Object.entries(chronicleRepository())) {
    mkdirSync(dirname(join(workspace, path)), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  symlinkSync(NODE_MODULES, join(workspace, 'node_modules'), 'dir');
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

// oxlint-disable-next-line no-control-regex -- matching the escape is the point
const ANSI_COLOUR = /\u001b\[[0-9;]*m/g;

/** `nest g ...`; the CLI exits 0 even when a schematic fails, so its output says. */
function nestGenerate(...args: string[]): string {
  const run = spawnSync(process.execPath, [NEST, 'g', ...args], {
    cwd: workspace,
    encoding: 'utf8',
    // A monorepo makes the CLI ask which project; a newline takes the default.
    input: '\n',
  });
  if (run.error) throw run.error;
  // The CLI colours its output whatever the terminal; compare the text.
  return `${run.stdout}${run.stderr}`.replace(ANSI_COLOUR, '');
}

it('dry-runs `nest g command` through the collection: lists, writes nothing', () => {
  const output = nestGenerate(
    'command',
    'ship-order',
    '-p',
    'orders',
    '--dry-run',
  );
  expect(output).toContain(
    'CREATE apps/orders/src/ship-order/ship-order.command.ts',
  );
  expect(output).toContain('UPDATE apps/orders/src/app.module.ts');
  expect(output).toContain('Dry run enabled. No files written to disk.');
  expect(existsSync(join(workspace, 'apps/orders/src/ship-order'))).toBe(false);
});

it('runs `nest g mc` (the microclient alias)', () => {
  const output = nestGenerate('mc', 'billing', '--dry-run');
  expect(output).toContain('CREATE apps/billing/src/app.module.ts');
  expect(output).toContain('UPDATE tsconfig.build.json');
  expect(existsSync(join(workspace, 'apps/billing'))).toBe(false);
});

it('still runs the built-ins: `nest g service`', () => {
  const output = nestGenerate(
    'service',
    'pricing',
    '-p',
    'orders',
    '--dry-run',
  );
  expect(output).toContain('CREATE apps/orders/src/pricing/pricing.service.ts');
});

it('reports an unknown project with the projects it knows', () => {
  const output = nestGenerate('query', 'count-orders', '-p', 'nope');
  expect(output).toContain(
    `Project "nope" is not in nest-cli.json (its projects: ${repositoryProjects().join(', ')}).`,
  );
  expect(existsSync(join(workspace, 'apps/orders/src/count-orders'))).toBe(
    false,
  );
});
