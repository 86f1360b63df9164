import {
  changed,
  generate,
  runSchematic,
  type Files,
} from './run-schematic.js';
import {
  chronicleRepository,
  freshNestProject,
  repositoryProjects,
} from './workspaces.js';

// The built collection (npm run build) run on a copy of this repository's
// workspace and on a fresh `nest new` project.

const DOMAIN = [
  'apps/billing/src/app.module.ts',
  'apps/billing/src/billing/billing-created.event.ts',
  'apps/billing/src/billing/billing-titles.consumer.ts',
  'apps/billing/src/billing/billing.aggregate.ts',
  'apps/billing/src/billing/billing.module.ts',
  'apps/billing/src/billing/billing.spec.ts',
  'apps/billing/src/billing/create-billing.command.ts',
  'apps/billing/src/billing/create-billing.handler.ts',
  'apps/billing/src/health/health.controller.spec.ts',
  'apps/billing/src/health/health.controller.ts',
  'apps/billing/src/main.ts',
  'apps/billing/tsconfig.app.json',
];

const json = (files: Files, path: string): Record<string, unknown> =>
  JSON.parse(files[path]) as Record<string, unknown>;

describe('microclient in this repository', () => {
  const before = chronicleRepository();
  const after = generate('microclient', { name: 'billing' }, before);

  it('writes the app and registers it with the build, the Nest CLI and npm', () => {
    expect(changed(before, after)).toEqual(
      [
        ...DOMAIN,
        'apps/billing/billing.env',
        'nest-cli.json',
        'package.json',
        'tsconfig.build.json',
      ].sort(),
    );
  });

  it('adds `npm run start:billing` after the other start scripts: build, then run embedded', () => {
    const scripts = Object.entries(
      json(after, 'package.json').scripts as Record<string, string>,
    );
    const scriptsBefore = Object.entries(
      json(before, 'package.json').scripts as Record<string, string>,
    );
    const lastStart = scriptsBefore.findLastIndex(([name]) =>
      name.startsWith('start'),
    );
    expect(scripts).toEqual([
      ...scriptsBefore.slice(0, lastStart + 1),
      [
        'start:billing',
        'npm run build && node --env-file=apps/billing/billing.env apps/billing/dist/main.js',
      ],
      ...scriptsBefore.slice(lastStart + 1),
    ]);
    expect(after['apps/billing/billing.env']).toContain(
      'CHRONICLE_DATA_DIR=.chronicle-data/billing',
    );
  });

  it("keeps nest-cli.json's projects in the user's order, the new one last", () => {
    expect(
      Object.keys(json(after, 'nest-cli.json').projects as object),
    ).toEqual([...repositoryProjects(), 'billing']);
  });

  it('git-ignores the embedded stores', () => {
    const files = generate(
      'microclient',
      { name: 'billing' },
      { ...before, '.gitignore': 'node_modules/\ndist/' },
    );
    expect(files['.gitignore']).toBe(
      'node_modules/\ndist/\n.chronicle-data/\n',
    );
  });

  it('keeps tsconfig.json type-checking the whole workspace', () => {
    expect(after['tsconfig.json']).toBe(before['tsconfig.json']);
  });

  it('adds a composite tsconfig to the project references', () => {
    expect(json(after, 'tsconfig.build.json').references).toContainEqual({
      path: './apps/billing/tsconfig.app.json',
    });
    expect(json(after, 'apps/billing/tsconfig.app.json')).toMatchObject({
      extends: '../../tsconfig.base.json',
      compilerOptions: { composite: true, outDir: './dist' },
      exclude: ['src/**/*.spec.ts'],
      references: [{ path: '../../libs/core/tsconfig.lib.json' }],
    });
  });

  it('registers the project in nest-cli.json', () => {
    expect(json(after, 'nest-cli.json').projects).toMatchObject({
      billing: { type: 'application', sourceRoot: 'apps/billing/src' },
      orders: { sourceRoot: 'apps/orders/src' },
    });
  });

  it('configures Chronicle for the app and names message types after it', () => {
    expect(after['apps/billing/src/app.module.ts']).toContain(
      "ChronicleModule.forRoot({ app: 'billing' })",
    );
    expect(
      after['apps/billing/src/billing/create-billing.command.ts'],
    ).toContain("@CommandType('billing.CreateBilling')");
    expect(after['apps/billing/src/billing/billing.aggregate.ts']).toContain(
      "@Aggregate({ type: 'billing.Billing' })",
    );
    expect(after['apps/billing/src/billing/billing.aggregate.ts']).toContain(
      "@ErrorType('billing.BillingAlreadyExists')",
    );
    expect(after['apps/billing/src/billing/billing.spec.ts']).toContain(
      ".expectError(BillingAlreadyExists, { billingId: 'billing-2' })",
    );
  });

  it('formats with the workspace settings and imports with .js suffixes', () => {
    const module = after['apps/billing/src/billing/billing.module.ts'];
    expect(module).toContain("from './billing.aggregate.js';");
    expect(module).not.toContain('"');
  });

  it('names the repository with a real plural', () => {
    const library = generate('microclient', { name: 'library' }, before);
    expect(
      library['apps/library/src/library/create-library.handler.ts'],
    ).toContain('private readonly libraries: AggregateRepository<Library>');
  });

  it('takes -p with its own name (the form that spares the Nest CLI its prompt), and refuses another', () => {
    expect(
      generate('microclient', { name: 'billing', project: 'billing' }, before),
    ).toEqual(after);
    expect(
      runSchematic(
        'microclient',
        { name: 'billing', project: 'orders' },
        before,
      ).error?.message,
    ).toContain('pass -p billing');
  });

  it('names the domain with the singular of a plural app name', () => {
    const invoices = generate('microclient', { name: 'invoices' }, before);
    expect(
      invoices['apps/invoices/src/invoices/invoice.aggregate.ts'],
    ).toContain('export class Invoice extends AggregateRoot');
    const status = generate('microclient', { name: 'status' }, before);
    expect(status['apps/status/src/status/status.aggregate.ts']).toContain(
      'export class Status extends AggregateRoot',
    );
  });

  it('is also `mc`', () => {
    expect(generate('mc', { name: 'billing' }, before)).toEqual(after);
  });

  it('writes no spec with spec: false', () => {
    const files = generate(
      'microclient',
      { name: 'billing', spec: false },
      before,
    );
    expect(changed(before, files)).toEqual(
      [
        ...DOMAIN,
        'apps/billing/billing.env',
        'nest-cli.json',
        'package.json',
        'tsconfig.build.json',
      ]
        .filter((path) => !path.endsWith('.spec.ts'))
        .sort(),
    );
  });

  it('refuses a project that exists', () => {
    expect(
      runSchematic('microclient', { name: 'orders' }, before).error,
    ).toEqual({
      name: 'SchematicsException',
      message:
        'Project "orders" exists in nest-cli.json already: choose another name.',
    });
  });

  it('refuses to write over a folder that is there', () => {
    const taken = { ...before, 'apps/billing/README.md': '# billing\n' };
    expect(
      runSchematic('microclient', { name: 'billing' }, taken).error,
    ).toEqual({
      name: 'SchematicsException',
      message: 'apps/billing exists already: choose another name or remove it.',
    });
  });

  it('refuses a name that cannot be a file, class and type name', () => {
    expect(
      runSchematic('microclient', { name: 'bill ing!' }, before).error,
    ).toMatchObject({
      name: 'SchematicsException',
      message: expect.stringContaining(
        '"bill ing!" is not a valid microclient name',
      ),
    });
  });
});

describe('microclient in a fresh `nest new` project', () => {
  const before = freshNestProject();
  const after = generate('microclient', { name: 'billing' }, before);

  it('turns the project into a monorepo with the default app under apps/', () => {
    expect(after['apps/shop/src/main.ts']).toBe(before['src/main.ts']);
    expect(after['src/main.ts']).toBeUndefined();
    expect(json(after, 'nest-cli.json')).toMatchObject({
      monorepo: true,
      projects: {
        billing: { root: 'apps/billing' },
        shop: { root: 'apps/shop' },
      },
    });
  });

  it('makes Chronicle the default collection, so later `nest g` needs no -c', () => {
    expect(json(before, 'nest-cli.json').collection).toBe('@nestjs/schematics');
    expect(json(after, 'nest-cli.json').collection).toBe(
      '@chronicle/schematics',
    );
  });

  it('builds with tsc, not a bundler', () => {
    expect(json(after, 'nest-cli.json').compilerOptions).toMatchObject({
      builder: 'tsc',
    });
  });

  it('lists the default app before the new one in nest-cli.json', () => {
    expect(
      Object.keys(json(after, 'nest-cli.json').projects as object),
    ).toEqual(['shop', 'billing']);
  });

  it('adds no dependency: nothing for a bundler, no start script (`nest build` builds it)', () => {
    const deps = (files: Files) => ({
      dependencies: json(files, 'package.json').dependencies,
      devDependencies: json(files, 'package.json').devDependencies,
    });
    expect(deps(after)).toEqual(deps(before));
    expect(
      Object.keys(json(after, 'package.json').scripts as object).filter((s) =>
        s.startsWith('start:billing'),
      ),
    ).toEqual([]);
  });

  it("uses sub-app's tsconfig for `nest build billing`", () => {
    expect(json(after, 'apps/billing/tsconfig.app.json')).toMatchObject({
      extends: '../../tsconfig.json',
    });
    expect(json(after, 'tsconfig.json').references).toContainEqual({
      path: './apps/billing/tsconfig.app.json',
    });
  });

  it('writes the same domain, without the sample controller and its e2e test', () => {
    for (const path of DOMAIN) expect(after[path]).toBeDefined();
    expect(
      Object.keys(after).filter(
        (path) =>
          path.startsWith('apps/billing/') &&
          /controller|service|test\//.test(path) &&
          !path.includes('/health/'),
      ),
    ).toEqual([]);
  });
});
