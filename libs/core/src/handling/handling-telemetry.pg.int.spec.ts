import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { postgresDatabase } from '../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../test/nats.js';
import {
  CountParcels,
  CrashParcel,
  ParcelRefused,
  RefuseParcel,
  ShipParcel,
  Unserved,
} from '../../test/shipping.fixture.js';
import { registerTracing } from '../../test/trace-apps.fixture.js';
import { startApp, type TestApp } from '../../test/transport-apps.js';
import { ValidationError } from '../messages/index.js';
import { NoHandlerError, RemoteHandlerError } from '../transport/index.js';

// What an operator reads off one app's /metrics and log after a known
// workload: each app on its own registry, as each process has its own.

const database = postgresDatabase();
const apps: TestApp[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  while (apps.length > 0) await apps.pop()?.close();
});
afterAll(() => database.close());

async function start(
  instance: string,
  handlers: boolean,
  namespace: string,
  registry: Registry,
  schema?: string,
): Promise<TestApp> {
  const app = await startApp({
    instance,
    client: database.client(),
    handlers,
    schema,
    chronicle: {
      app: instance,
      metrics: { registry, path: false },
      transport: { nats: { servers: NATS_URL }, namespace },
    },
  });
  apps.push(app);
  return app;
}

/** A counter's or histogram count's value for these labels (0 when never seen). */
async function valueOf(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(
    name.replace(/_count$/, ''),
  ) as unknown as
    | {
        get(): Promise<{
          values: {
            metricName?: string;
            labels: Record<string, unknown>;
            value: number;
          }[];
        }>;
      }
    | undefined;
  if (!metric) throw new Error(`No metric ${name}`);
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      (v.metricName === undefined || v.metricName === name) &&
      Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  );
  return found?.value ?? 0;
}

const handled = (
  registry: Registry,
  type: string,
  handler: string,
  outcome: string,
) =>
  valueOf(registry, 'chronicle_messages_handled_total', {
    kind: 'command',
    type,
    handler,
    outcome,
  });

describe('handling metrics', () => {
  it('count commands handled in this process by type, handler and outcome, once per handling', async () => {
    const registry = new Registry();
    const app = await start('m1', true, freshNamespace(), registry);
    for (let i = 0; i < 3; i++) {
      await app.commands.execute(new ShipParcel(`p-${i}`, 1));
    }
    await expect(
      app.commands.execute(new ShipParcel('p-bad', -1)),
    ).rejects.toThrow(ValidationError);
    for (let i = 0; i < 2; i++) {
      await expect(
        app.commands.execute(new RefuseParcel('no')),
      ).rejects.toThrow(ParcelRefused);
    }
    await expect(
      app.commands.execute(new CrashParcel('p-x')),
    ).rejects.toThrow();
    await app.queries.execute(new CountParcels());

    const ship = 'ship.ShipParcel';
    expect(await handled(registry, ship, 'ShipParcelHandler', 'ok')).toBe(3);
    expect(await handled(registry, ship, 'ShipParcelHandler', 'rejected')).toBe(
      1,
    );
    expect(
      await handled(
        registry,
        'ship.RefuseParcel',
        'RefuseParcelHandler',
        'rejected',
      ),
    ).toBe(2);
    expect(
      await handled(
        registry,
        'ship.CrashParcel',
        'CrashParcelHandler',
        'failed',
      ),
    ).toBe(1);
    expect(
      await valueOf(registry, 'chronicle_messages_handled_total', {
        kind: 'query',
        type: 'ship.CountParcels',
        handler: 'CountParcelsHandler',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(
      await valueOf(
        registry,
        'chronicle_message_handling_duration_seconds_count',
        {
          kind: 'command',
          type: ship,
          handler: 'ShipParcelHandler',
        },
      ),
    ).toBe(4);
    // Nothing was sent to another app.
    expect(
      await valueOf(registry, 'chronicle_request_duration_seconds_count', {
        type: ship,
      }),
    ).toBe(0);
  });

  it('time requests sent over NATS on the sending side, and count transport errors apart from handler errors', async () => {
    const namespace = freshNamespace();
    const served = new Registry();
    const sending = new Registry();
    await start('server', true, namespace, served);
    const caller = await start('caller', false, namespace, sending);

    await caller.commands.execute(new ShipParcel('p-1', 1));
    await caller.commands.execute(new ShipParcel('p-2', 1));
    await expect(
      caller.commands.execute(new RefuseParcel('no')),
    ).rejects.toThrow(ParcelRefused);
    await expect(
      caller.commands.execute(new CrashParcel('p-x')),
    ).rejects.toThrow(RemoteHandlerError);
    await expect(caller.commands.execute(new Unserved())).rejects.toThrow(
      NoHandlerError,
    );

    const request = (type: string, outcome: string) =>
      valueOf(sending, 'chronicle_request_duration_seconds_count', {
        kind: 'command',
        type,
        outcome,
      });
    expect(await request('ship.ShipParcel', 'ok')).toBe(2);
    expect(await request('ship.RefuseParcel', 'error')).toBe(1);
    expect(await request('ship.CrashParcel', 'error')).toBe(1);
    expect(await request('ship.Unserved', 'error')).toBe(1);
    const transportErrors = (type: string, error: string) =>
      valueOf(sending, 'chronicle_transport_errors_total', {
        kind: 'command',
        type,
        error,
      });
    expect(await transportErrors('ship.Unserved', 'no_handler')).toBe(1);
    // The handlers' own errors are not the transport's.
    expect(await transportErrors('ship.RefuseParcel', 'no_handler')).toBe(0);
    const sendingErrors = (
      sending.getSingleMetric(
        'chronicle_transport_errors_total',
      ) as unknown as {
        get(): Promise<{ values: unknown[] }>;
      }
    ).get();
    expect((await sendingErrors).values).toHaveLength(1);

    // The serving app counts what it handled; the caller handled nothing.
    expect(
      await handled(served, 'ship.ShipParcel', 'ShipParcelHandler', 'ok'),
    ).toBe(2);
    expect(
      await handled(
        served,
        'ship.RefuseParcel',
        'RefuseParcelHandler',
        'rejected',
      ),
    ).toBe(1);
    expect(
      await handled(served, 'ship.CrashParcel', 'CrashParcelHandler', 'failed'),
    ).toBe(1);
    expect(
      await handled(sending, 'ship.ShipParcel', 'ShipParcelHandler', 'ok'),
    ).toBe(0);
  });
});

describe('the log of failed handlings', () => {
  type Spy = { mock: { calls: unknown[][] } };
  function logged(): Spy[] {
    return [
      jest.spyOn(Logger.prototype, 'log'),
      jest.spyOn(Logger.prototype, 'warn'),
      jest.spyOn(Logger.prototype, 'error'),
    ];
  }

  const linesAbout = (spies: Spy[], text: string): string[] =>
    spies
      .flatMap((spy) => spy.mock.calls.map((call) => String(call[0])))
      .filter((line) => line.includes(text));

  it('has one line for a command that failed in this process, with its id and correlation id', async () => {
    const app = await start('l1', true, freshNamespace(), new Registry());
    const spies = logged();
    const correlationId = `corr-${randomUUID()}`;
    const id = randomUUID();
    await expect(
      app.gateway.send(new CrashParcel('p-x'), {
        id,
        metadata: { correlationId },
      }),
    ).rejects.toThrow();
    const lines = linesAbout(spies, id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ship.CrashParcel');
    expect(lines[0]).toContain(`(correlation ${correlationId})`);
    const [error] = spies[2].mock.calls.filter((call) =>
      String(call[0]).includes(id),
    );
    expect(error).toBeDefined();

    // A declared refusal is an outcome: one line at `log` level.
    const refusal = randomUUID();
    await expect(
      app.gateway.send(new RefuseParcel('no'), { id: refusal }),
    ).rejects.toThrow(ParcelRefused);
    const refused = linesAbout(spies, refusal);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain(`(correlation ${refusal})`);
    expect(
      spies[0].mock.calls.filter((call) => String(call[0]).includes(refusal)),
    ).toHaveLength(1);
  });

  it('names the trace of the failure when a span is active, so the line leads to its trace', async () => {
    const tracing = registerTracing();
    try {
      const app = await start('l2', true, freshNamespace(), new Registry());
      const spies = logged();
      const id = randomUUID();
      const traceId = await trace
        .getTracer('test')
        .startActiveSpan('nightly job', async (span) => {
          await expect(
            app.gateway.send(new CrashParcel('p-x'), { id }),
          ).rejects.toThrow();
          span.end();
          return span.spanContext().traceId;
        });
      const lines = linesAbout(spies, id);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`[trace ${traceId}]`);
    } finally {
      await tracing.stop();
    }
  });

  it('has one line for a command that failed when served to another app, not one more in the caller', async () => {
    const namespace = freshNamespace();
    await start('server', true, namespace, new Registry());
    const caller = await start('caller', false, namespace, new Registry());
    const spies = logged();
    const id = randomUUID();
    await expect(
      caller.gateway.send(new CrashParcel('p-x'), { id }),
    ).rejects.toThrow(RemoteHandlerError);
    const lines = linesAbout(spies, id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ship.CrashParcel');
  });
});
