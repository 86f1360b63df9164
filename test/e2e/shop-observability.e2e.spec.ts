import type { INestApplicationContext } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { CommandBus } from '@chronicle/core';
import { OrderLine, PlaceOrder } from '@shop/contracts';
import { freshSchema } from '../../libs/core/test/databases.js';
import { eventually, freshNamespace } from '../../libs/core/test/nats.js';
import { Microclient, startCaller } from '../support/microclient.js';

/*
 * What `npm run start:orders` gives Prometheus and Jaeger: the microclient
 * serves Chronicle's metrics on the port METRICS_PORT names
 * (apps/microclients.env gives each app its own; 0 here: any free port), and
 * the preload apps/tracing.mjs exports its spans over OTLP HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (here: a collector this test plays).
 */

/** An OTLP HTTP endpoint that keeps what it is sent. */
class OtlpCollector {
  readonly received: { path: string; body: string }[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.received.push({
        path: request.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) =>
      this.server.listen(0, '127.0.0.1', resolve),
    );
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The value of the series of `name` whose labels include all of `labels`. */
function sample(
  exposition: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of exposition.split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) =>
      m[2].includes(`${k}="${v}"`),
    );
    if (has) return Number(m[3]);
  }
  return undefined;
}

describe('the example shop observed', () => {
  const namespace = freshNamespace();
  const collector = new OtlpCollector();
  let orders: Microclient;
  let caller: INestApplicationContext;

  beforeAll(async () => {
    const endpoint = await collector.start();
    orders = Microclient.start('apps/orders/dist/main.js', {
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('observed'),
      METRICS_PORT: '0',
      // What `npm run start:orders` passes as `--import`.
      NODE_OPTIONS: '--import ./apps/tracing.mjs',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    });
    await orders.ready();
    caller = await startCaller(namespace);
    await caller
      .get(CommandBus)
      .execute(new PlaceOrder('o-1', 'ada', [OrderLine.of('tea', 2, 4.5)]));
  });

  afterAll(async () => {
    await caller?.close();
    orders?.stop();
    await orders?.exited;
    await collector.stop();
  });

  it('orders serves its metrics on METRICS_PORT, counting the commands it handled', async () => {
    const port = /Metrics at http:\/\/[^:]+:(\d+)\/metrics/.exec(
      orders.lines.join('\n'),
    )?.[1];
    expect(port).toBeDefined();
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(
      sample(await response.text(), 'chronicle_messages_handled_total', {
        kind: 'command',
        type: 'orders.PlaceOrder',
        outcome: 'ok',
      }),
    ).toBe(1);
  });

  it('the tracing preload exports the spans of orders over OTLP HTTP, as service orders', async () => {
    // The SDK sends in batches, every few seconds.
    await eventually(
      () =>
        collector.received.some(
          (r) => r.path === '/v1/traces' && r.body.includes('PlaceOrder'),
        ),
      'a span of PlaceOrder reaches the collector',
      20_000,
    );
    const traces = collector.received.find((r) =>
      r.body.includes('PlaceOrder'),
    )!;
    expect(traces.body).toContain(
      '{"key":"service.name","value":{"stringValue":"orders"}}',
    );
  });
});

describe('the tracing preload in a script that ends soon after it starts', () => {
  const collector = new OtlpCollector();
  let endpoint: string;

  beforeAll(async () => {
    endpoint = await collector.start();
  });
  afterAll(() => collector.stop());

  /** Runs `code` with the preload, as `node --import ./apps/tracing.mjs` would (scripts/shop-traffic.mjs). */
  const runScript = (service: string, code: string) =>
    promisify(execFile)(
      process.execPath,
      ['--import', './apps/tracing.mjs', '--input-type=module', '-e', code],
      {
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: service,
        },
      },
    ).catch((error: { signal?: string }) => error);

  const spanMade = `
    import { trace } from '@opentelemetry/api';
    trace.getTracer('script').startSpan('the last span').end();`;

  it('sends its last spans when it simply ends', async () => {
    await runScript('ends', spanMade);
    // The process has ended: whatever it sent has been received.
    expect(
      collector.received.some(
        (r) =>
          r.body.includes('"stringValue":"ends"') &&
          r.body.includes('the last span'),
      ),
    ).toBe(true);
  });

  it('sends its last spans when it is stopped, and still ends by the signal', async () => {
    const result = await runScript(
      'stopped',
      // Once the SDK has settled (its resource detection keeps the
      // process up by itself while it runs), as a Ctrl+C would come.
      `${spanMade}\n    setTimeout(() => process.kill(process.pid, 'SIGTERM'), 500);`,
    );
    expect((result as { signal?: string }).signal).toBe('SIGTERM');
    expect(
      collector.received.some(
        (r) =>
          r.body.includes('"stringValue":"stopped"') &&
          r.body.includes('the last span'),
      ),
    ).toBe(true);
  });
});
