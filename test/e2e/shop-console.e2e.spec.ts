import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { CommandBus, MessageGateway } from '@chronicle/core';
import {
  AddStock,
  AuthorizePayment,
  OrderLine,
  PlaceOrder,
} from '@shop/contracts';
import { DATABASE_URL, freshSchema } from '../../libs/core/test/databases.js';
import { eventually, freshNamespace } from '../../libs/core/test/nats.js';
import { waitUntil } from '../../libs/core/test/wait-until.js';
import {
  freePort,
  launchChromium,
  screenshotFolder,
  signedIn,
} from '../support/console-browser.js';
import { Microclient, startCaller } from '../support/microclient.js';

/*
 * The web console in a real browser (Debian's chromium, driven by
 * playwright-core) against the shop split into its three microclients on
 * PostgreSQL and NATS, plus a test-only labels app whose printer refuses each
 * order once (a parked dead letter), and the shop app running nothing but the
 * console (CHRONICLE_ENABLED=chronicle-console) with its demo login.
 */

const namespace = freshNamespace();
const schema = freshSchema('console');
const inventorySchema = freshSchema('cstock');
const apps: Microclient[] = [];
const pool = new pg.Pool({ connectionString: DATABASE_URL });
const shots = screenshotFolder();
let labels: Microclient;
let customer: INestApplicationContext;
let browser: Browser;
let base: string;

const env = {
  CHRONICLE_NAMESPACE: namespace,
  CHRONICLE_SCHEMA: schema,
  INVENTORY_SCHEMA: inventorySchema,
  // Long enough that the unpaid order's deadline waits on the schedules page.
  PAYMENT_TIMEOUT: '1h',
};

beforeAll(async () => {
  for (const app of ['orders', 'payments', 'inventory']) {
    const started = Microclient.start(`apps/${app}/dist/main.js`, env);
    apps.push(started);
    await started.ready();
  }
  labels = Microclient.start('test/fixtures/labels-app.mjs', env);
  apps.push(labels);
  await labels.ready();
  const port = await freePort();
  const shop = Microclient.start('apps/shop/dist/main.js', {
    ...env,
    CHRONICLE_ENABLED: 'chronicle-console',
    CONSOLE_PORT: String(port),
    CONSOLE_USERS: 'ada:lovelace:admin,vic:viewer:',
    // A lag sample a second, so the consumers page's chart has a line to draw.
    CONSOLE_LAG_SAMPLE_MS: '1000',
  });
  apps.push(shop);
  await shop.ready();
  base = `http://127.0.0.1:${port}/chronicle`;
  customer = await startCaller(namespace);
  browser = await launchChromium();

  const commands = customer.get(CommandBus);
  await commands.execute(new AddStock('tea', 10));
  await commands.execute(
    new PlaceOrder('o-1', 'bob', [OrderLine.of('tea', 2, 150)]),
  );
  await customer
    .get(MessageGateway)
    .send(new AuthorizePayment('o-1'), { id: 'pay-o-1' });
  await commands.execute(
    new PlaceOrder('o-2', 'eve', [OrderLine.of('tea', 1, 150)]),
  );
  await eventually(
    async () =>
      (
        await pool.query(
          `SELECT 1 FROM "${schema}".parked_streams WHERE consumer = 'shipping-labels'`,
        )
      ).rowCount === 1,
    'the confirmed order parked by the labels app',
    60_000,
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await customer?.close();
  for (const app of apps) app.stop();
  await Promise.all(apps.map((app) => app.exited));
  await pool.query(`DROP SCHEMA IF EXISTS "${inventorySchema}" CASCADE`);
  await pool.end();
});

async function open(page: Page, path: string): Promise<void> {
  const response = await page.goto(`${base}${path}`);
  expect(response?.status()).toBe(200);
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

describe('as a reader', () => {
  it('sees every page without a single button, and a crafted action is refused', async () => {
    const { page, errors } = await signedIn(browser, 'vic', 'viewer');
    for (const path of [
      '/messages',
      '/messages/pay-o-1',
      '/aggregates?stream=orders.Order-o-1',
      '/tail',
      '/consumers',
      '/schedules',
    ]) {
      await open(page, path);
      expect(
        await page
          .locator(
            'form.action, button.button-retry, button.button-drop, button.button-cancel-schedule',
          )
          .count(),
      ).toBe(0);
    }
    await open(page, '/consumers');
    expect(
      await page.locator('section#shipping-labels tr.parked').count(),
    ).toBe(1);
    await shoot(page, 'read-only');
    const crafted = await page.request.post(`${base}/actions/cancel-schedule`, {
      form: {
        id: 'chronicle.handled-commands-cleanup:orders',
        csrf: 'guessed',
      },
      maxRedirects: 0,
    });
    expect(crafted.status()).toBe(403);
    expect(errors).toEqual([]);
  });
});

describe('as an admin', () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ page, errors } = await signedIn(browser, 'ada', 'lovelace'));
  });
  afterEach(() => expect(errors).toEqual([]));

  it('searches the message log', async () => {
    await open(page, '/messages?app=orders');
    const types = (
      await page.locator('table.log td:nth-child(3)').allTextContents()
    ).map((t) => t.trim());
    expect(types).toEqual(
      expect.arrayContaining(['orders.PlaceOrder', 'orders.ConfirmOrder']),
    );
    expect(
      types.every((t) => t.startsWith('orders.') || t.startsWith('chronicle.')),
    ).toBe(true);
    await open(page, '/messages');
    await shoot(page, 'message-log');
  });

  it("draws the order's correlation tree across the apps, the labels app's failure in red", async () => {
    await open(page, '/messages/pay-o-1');
    const lanes = (
      await page.locator('svg.trace .lane-name').allTextContents()
    ).map((t) => t.trim());
    expect(lanes).toEqual(expect.arrayContaining(['payments', 'orders']));
    const labels = (
      await page.locator('svg.trace .node .label').allTextContents()
    ).map((t) => t.trim());
    expect(labels).toEqual(
      expect.arrayContaining([
        'payments.AuthorizePayment',
        'payments.PaymentAuthorized',
        'orders.ConfirmOrder',
        'orders.OrderConfirmed',
      ]),
    );
    expect(
      await page.locator('svg.trace .node.failed').count(),
    ).toBeGreaterThan(0);
    await shoot(page, 'correlation-tree');
  });

  it("shows the order's state at version 2 and what changed from version 1", async () => {
    await open(page, '/aggregates?stream=orders.Order-o-1&at=2&compare=1');
    await expect(page.locator('.state h3').first().textContent()).resolves.toBe(
      'State at version 2',
    );
    expect(await page.locator('.state-json').textContent()).toContain(
      'confirmed',
    );
    expect(await page.locator('table.diff').textContent()).toContain('status');
    await shoot(page, 'aggregate');
  });

  it('tails the events as they commit: an order placed after the page opened shows up', async () => {
    await open(page, '/tail');
    await page.locator('#tail-status', { hasText: 'Live' }).waitFor();
    await customer
      .get(CommandBus)
      .execute(new PlaceOrder('o-4', 'ada', [OrderLine.of('tea', 3, 150)]));
    const placed = page.locator('#tail tbody tr', {
      hasText: 'orders.OrderPlaced',
    });
    await placed.waitFor();
    expect(await placed.locator('td').nth(2).textContent()).toBe(
      'orders.Order-o-4',
    );
    expect(
      await placed
        .locator('a', { hasText: 'orders.Order-o-4' })
        .getAttribute('href'),
    ).toBe('/chronicle/aggregates?stream=orders.Order-o-4');
    expect(await placed.locator('td.preview').textContent()).toContain(
      '"orderId":"o-4"',
    );
    // What the order set off in the other apps follows it in.
    await page
      .locator('#tail tbody tr', { hasText: 'inventory.' })
      .first()
      .waitFor();
    await shoot(page, 'live-tail');
  });

  it('draws each consumer’s lag over the last hour, a line per consumer', async () => {
    await open(page, '/consumers');
    const sections = await page.locator('section.consumer').count();
    expect(sections).toBeGreaterThan(2);
    // Sampled every second here: wait for a second point on every line.
    await eventually(async () => {
      await open(page, '/consumers');
      const lines = await page
        .locator('svg.lag-chart polyline.lag-events')
        .evaluateAll((els) =>
          els.map((el) => el.getAttribute('points')!.split(' ').length),
        );
      return lines.length === sections && lines.every((points) => points > 1);
    }, 'two lag samples per consumer');
    expect(await page.locator('svg.lag-chart').count()).toBe(sections);
    await page.locator('section#shipping-labels').screenshot({
      path: join(shots, 'lag-chart.png'),
    });
  });

  it('retries the parked dead letter from the page, and the labels app handles it', async () => {
    await open(page, '/consumers');
    const section = page.locator('section#shipping-labels');
    expect(await section.locator('tr.parked').textContent()).toContain(
      'out of paper',
    );
    await shoot(page, 'consumers');
    await Promise.all([
      page.waitForURL(/\/consumers\?notice=/),
      section.locator('tr.parked button.button-retry').click(),
    ]);
    expect(await page.locator('.notice').textContent()).toContain(
      'orders.Order-o-1: 1 event handled, flowing again.',
    );
    expect(
      labels.lines.some((l) => l.includes('label printed for order o-1')),
    ).toBe(true);
    expect(
      await page.locator('section#shipping-labels tr.parked').count(),
    ).toBe(0);
  });

  it("lists the schedules, a process manager's deadline with its process and no Cancel, and cancels another", async () => {
    await open(page, '/schedules');
    // The unpaid order o-2's payment deadline (o-4, placed by the tail's test, has one too).
    const deadline = page.locator('tr', {
      hasText: 'process:order-fulfilment:o-2:',
    });
    expect(await deadline.count()).toBe(1);
    expect(await deadline.textContent()).toContain(
      'chronicle.process.order-fulfilment.deadline',
    );
    expect(await deadline.textContent()).toMatch(/order-fulfilment\s+o-2/);
    expect(await deadline.locator('button').count()).toBe(0);
    await shoot(page, 'schedules');
    // A crafted cancel of the deadline, with the admin's own token: refused.
    const csrf = await page
      .locator('form.action input[name="csrf"]')
      .first()
      .getAttribute('value');
    const deadlineId = await deadline.locator('td code').first().textContent();
    const crafted = await page.request.post(`${base}/actions/cancel-schedule`, {
      form: { id: deadlineId!, csrf: csrf! },
      maxRedirects: 0,
    });
    expect(crafted.status()).toBe(303);
    await open(page, crafted.headers().location.replace('/chronicle', ''));
    expect(await page.locator('.notice').textContent()).toContain(
      'is cancelled by its process manager',
    );
    expect(await deadline.count()).toBe(1);
    const sweep = page.locator('tr', {
      hasText: 'chronicle.handled-commands-cleanup:orders',
    });
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([
      page.waitForURL(/\/schedules\?notice=/),
      sweep.locator('button.button-cancel-schedule').click(),
    ]);
    expect(await page.locator('.notice').textContent()).toContain(
      'Schedule chronicle.handled-commands-cleanup:orders cancelled.',
    );
    expect(await sweep.count()).toBe(0);
  });
});

describe("the shop's HTTP gateway", () => {
  const api = () => base.replace(/\/chronicle$/, '/api');
  const login = (user: string) => ({
    authorization: `Basic ${Buffer.from(user).toString('base64')}`,
  });

  it('places an order over HTTP as the logged-in user, handled by the orders app over NATS', async () => {
    const response = await fetch(`${api()}/commands/orders.PlaceOrder`, {
      method: 'POST',
      headers: {
        ...login('ada:lovelace'),
        'content-type': 'application/json',
        'idempotency-key': 'http-order-o-3',
      },
      body: JSON.stringify({
        orderId: 'o-3',
        customerId: 'ada',
        lines: [{ sku: 'tea', quantity: 1, unitPrice: 150 }],
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: 'http-order-o-3',
      result: { orderId: 'o-3' },
    });
    const logged = await pool.query<{ metadata: { user?: { id: string } } }>(
      `SELECT metadata FROM "${schema}".events WHERE stream_id = 'orders.Order-o-3' ORDER BY stream_version LIMIT 1`,
    );
    expect(logged.rows[0].metadata.user).toMatchObject({ id: 'ada' });
  });

  it("searches the orders app's documents through the gateway, as any query", async () => {
    const ask = (body: unknown) =>
      fetch(`${api()}/queries/chronicle.documents.orders.Search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...login('vic:viewer') },
        body: JSON.stringify(body),
      });
    let page: {
      result: { items: { id: string; body: { customerId: string } }[] };
    };
    await waitUntil(async () => {
      const response = await ask({
        operation: 'page',
        spec: { filters: [{ op: 'eq', path: 'customerId', value: 'bob' }] },
      });
      expect(response.status).toBe(200);
      page = (await response.json()) as typeof page;
      return page.result.items.some((item) => item.id === 'o-1');
    }, 'order o-1 searchable');
    expect(page!.result.items.every((i) => i.body.customerId === 'bob')).toBe(
      true,
    );
    // A search the owner refuses comes back as a problem naming what was wrong.
    const refused = await ask({
      operation: 'page',
      spec: { filters: [{ op: 'eq', path: 'no such path!', value: 1 }] },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('no such path!');
  });

  it('refuses a request without a login, as a problem, and documents the shop in OpenAPI', async () => {
    const refused = await fetch(`${api()}/queries/orders.GetOrder`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'o-1' }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain(
      'application/problem+json',
    );
    const document = (await (
      await fetch(`${api()}/openapi.json`, { headers: login('vic:viewer') })
    ).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/commands/orders.PlaceOrder',
        '/api/queries/orders.GetOrder',
      ]),
    );
  });
});
