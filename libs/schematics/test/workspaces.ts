import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, type Files } from './run-schematic.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

function read(path: string): string {
  return readFileSync(join(REPO, path), 'utf8');
}

/**
 * A small orders app in this repository's layout: what the element
 * schematics find and change (a root module, a feature module listing an
 * aggregate and handlers, an event). Fixed here rather than read from
 * apps/orders, which changes with the example it is.
 */
const ORDERS_APP: Files = {
  'apps/orders/tsconfig.app.json': `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "composite": true, "rootDir": "./src", "outDir": "./dist" },
  "references": [{ "path": "../../libs/core/tsconfig.lib.json" }]
}
`,
  'apps/orders/src/app.module.ts': `import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { OrdersModule } from './orders/orders.module.js';

@Module({
  imports: [ChronicleModule.forRoot({ app: 'orders' }), OrdersModule],
})
export class AppModule {}
`,
  'apps/orders/src/orders/orders.module.ts': `import { ChronicleModule } from '@chronicle/core';
import { Module } from '@nestjs/common';
import { Order } from './order.aggregate.js';
import { PlaceOrderHandler } from './order.handlers.js';

@Module({
  imports: [ChronicleModule.forFeature([Order])],
  providers: [PlaceOrderHandler],
})
export class OrdersModule {}
`,
  'apps/orders/src/orders/order.events.ts': `import { EventType } from '@chronicle/core';

@EventType('orders.OrderPlaced')
export class OrderPlaced {
  constructor(readonly orderId: string) {}
}
`,
};

/**
 * This repository as the schematics see it: its workspace configuration,
 * read from disk, and an orders app.
 */
export function chronicleRepository(): Files {
  const files: Files = {};
  for (const path of [
    'package.json',
    'nest-cli.json',
    'tsconfig.json',
    'tsconfig.base.json',
    'tsconfig.build.json',
    '.prettierrc',
    'libs/core/tsconfig.lib.json',
  ]) {
    files[path] = read(path);
  }
  return { ...files, ...ORDERS_APP };
}

/** The projects this repository's nest-cli.json lists, in its order. */
export function repositoryProjects(): string[] {
  const config = JSON.parse(read('nest-cli.json')) as {
    projects: Record<string, unknown>;
  };
  return Object.keys(config.projects);
}

/**
 * What `nest new shop` writes, made by @nestjs/schematics' `application`
 * schematic resolved through Chronicle's collection.
 */
export function freshNestProject(): Files {
  const made = generate(
    'application',
    { name: 'shop', directory: 'shop', packageManager: 'npm', strict: true },
    {},
  );
  const files: Files = {};
  for (const [path, text] of Object.entries(made)) {
    files[path.replace(/^shop\//, '')] = text;
  }
  return files;
}
