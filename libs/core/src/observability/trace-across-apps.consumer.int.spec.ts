import type { INestApplicationContext } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { CommandBus } from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { eventually, freshNamespace } from '../../test/nats.js';
import {
  registerTracing,
  shippedEvents,
  ShippingModule,
  ShipCrate,
  storedSpanOf,
  theSpan,
  traceApp,
  watched,
  WatchingModule,
  type ReadableSpan,
  type TestTracing,
} from '../../test/trace-apps.fixture.js';

// App A sends a command over NATS, app B handles it and stores an event, and
// a consumer in app C reads that event from the store: C's handling of the
// event continues the trace B's span stored in the event's metadata, as its
// child or through a span link (later, in another process, is still the
// same trace).

const database = postgresDatabase();
let tracing: TestTracing;
const apps: INestApplicationContext[] = [];
const schema = freshSchema('trcc');

beforeAll(() => {
  tracing = registerTracing();
});

afterAll(async () => {
  while (apps.length > 0) await apps.pop()?.close();
  await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
  await tracing.stop();
});

/** Whether `span` continues `stored` (B's span): as its child, or linked to it. */
function continues(
  span: ReadableSpan,
  stored: { traceId: string; spanId: string },
): boolean {
  const parent = span.parentSpanContext;
  if (parent?.traceId === stored.traceId && parent.spanId === stored.spanId) {
    return true;
  }
  return span.links.some(
    (link) =>
      link.context.traceId === stored.traceId &&
      link.context.spanId === stored.spanId,
  );
}

describe('one trace across three apps', () => {
  it("C's consumer handles B's event in a span that continues the trace A started", async () => {
    const namespace = freshNamespace();
    const client = database.client();
    const c = await traceApp('c', client, schema, namespace, [WatchingModule]);
    apps.push(c);
    const b = await traceApp('b', client, schema, namespace, [ShippingModule]);
    apps.push(b);
    const a = await traceApp('a', client, schema, namespace);
    apps.push(a);

    const crateId = `crate-${randomUUID()}`;
    const root = await trace
      .getTracer('test')
      .startActiveSpan('POST /crates', async (span) => {
        await a.get(CommandBus).execute(new ShipCrate(crateId));
        span.end();
        return span;
      });
    const traceId = root.spanContext().traceId;
    await eventually(() => watched.includes(crateId), 'C saw the event');

    const [event] = await shippedEvents(b, crateId);
    const stored = storedSpanOf(event);
    expect(stored.traceId).toBe(traceId);
    const handling = theSpan(tracing.spans(), 'process trace.ShipCrate');
    expect(handling.spanContext().traceId).toBe(traceId);

    // C's span for this event names its type (B's spans name the command).
    let inC: ReadableSpan[] = [];
    await eventually(() => {
      inC = tracing
        .spans()
        .filter(
          (s) => s.name.includes('trace.CrateShipped') && continues(s, stored),
        );
      return inC.length > 0;
    }, "C's span for the event, continuing B's stored trace context");
    expect(inC).toHaveLength(1);
  });
});
