import {
  Module,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { register as defaultRegistry, Registry } from 'prom-client';
import {
  ChronicleModule,
  MetricsEndpoint,
  type MetricsOptions,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';

// Where Prometheus finds the metrics: the app's own HTTP server, or a
// listener of Chronicle's own for a microclient without one.

const database = postgresDatabase();
const opened: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
});
afterAll(() => database.close());

function rootModule(metrics: MetricsOptions | false): Type {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        database: { client: database.client(), schema: freshSchema() },
        transport: { local: true },
        metrics,
      }),
    ],
  })
  class AppModule {}
  return AppModule;
}

async function httpApp(metrics: MetricsOptions | false): Promise<string> {
  const app = await NestFactory.create(rootModule(metrics), { logger: false });
  opened.push(app);
  await app.listen(0, '127.0.0.1');
  return app.getUrl();
}

async function contextApp(
  metrics: MetricsOptions | false,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(rootModule(metrics), {
    logger: false,
  });
  opened.push(app);
  return app;
}

describe('the metrics endpoint', () => {
  it('serves the registry at /metrics on the app’s own HTTP server', async () => {
    const registry = new Registry();
    const url = await httpApp({ registry });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const text = await response.text();
    expect(text).toContain('# TYPE chronicle_messages_handled_total counter');
    expect(text).toContain('# TYPE chronicle_consumer_lag_events gauge');
  });

  it('serves on a listener of its own for an app without HTTP, and closes it with the app', async () => {
    const registry = new Registry();
    const app = await contextApp({ registry, port: 0, host: '127.0.0.1' });
    const address = app.get(MetricsEndpoint).address();
    expect(address).toBeDefined();
    const url = `http://127.0.0.1:${address!.port}`;
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(
      'chronicle_append_duration_seconds',
    );
    expect((await fetch(`${url}/other`)).status).toBe(404);

    await app.close();
    opened.splice(opened.indexOf(app), 1);
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it('serves nothing and registers nothing when metrics are off', async () => {
    const url = await httpApp(false);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect(
      defaultRegistry.getSingleMetric('chronicle_messages_handled_total'),
    ).toBeUndefined();
  });

  it('leaves the path to the app when told (`path: false`)', async () => {
    const registry = new Registry();
    const url = await httpApp({ registry, path: false });
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    // The instruments are there for the app's own endpoint to serve.
    expect(
      registry.getSingleMetric('chronicle_messages_handled_total'),
    ).toBeDefined();
  });

  it('lets two apps of one process share a registry without a duplicate-name error', async () => {
    const registry = new Registry();
    await contextApp({ registry });
    await contextApp({ registry });
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(
      names.filter((n) => n === 'chronicle_messages_handled_total'),
    ).toHaveLength(1);
  });
});
