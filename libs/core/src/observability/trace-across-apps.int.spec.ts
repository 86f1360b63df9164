import type { INestApplicationContext } from '@nestjs/common';
import { SpanKind, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import {
  CommandBus,
  createEnvelope,
  encodeRequest,
  messageSubject,
  payloadOf,
  Transport,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { eventually, freshNamespace } from '../../test/nats.js';
import {
  isWithin,
  registerTracing,
  shippedEvents,
  ShippingModule,
  ShipCrate,
  storedSpanOf,
  theSpan,
  traceApp,
  type TestTracing,
} from '../../test/trace-apps.fixture.js';

// App A sends a command over NATS; app B handles it and stores an event.
// The trace must cross NATS (headers) and the store (event metadata): the
// apps share this process's SDK, but nothing else carries context between them.

const database = postgresDatabase();
let tracing: TestTracing;
const apps: INestApplicationContext[] = [];
const schema = freshSchema('trc');

beforeAll(() => {
  tracing = registerTracing();
});

afterAll(async () => {
  while (apps.length > 0) await apps.pop()?.close();
  await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
  await tracing.stop();
});

describe('one trace across apps', () => {
  it("A's send span is the parent of B's handling span, over NATS, and B's event carries B's trace context", async () => {
    const namespace = freshNamespace();
    const client = database.client();
    const b = await traceApp('b', client, schema, namespace, [ShippingModule]);
    apps.push(b);
    const a = await traceApp('a', client, schema, namespace);
    apps.push(a);

    const crateId = `crate-${randomUUID()}`;
    const tracer = trace.getTracer('test');
    const root = await tracer.startActiveSpan('POST /crates', async (span) => {
      await a.get(CommandBus).execute(new ShipCrate(crateId));
      span.end();
      return span;
    });
    const traceId = root.spanContext().traceId;

    await eventually(
      () => tracing.spans().some((s) => s.name === 'process trace.ShipCrate'),
      "B's handling span ended",
    );
    const spans = tracing.spans();
    const send = theSpan(spans, 'send trace.ShipCrate');
    const handling = theSpan(spans, 'process trace.ShipCrate');

    // A: the send span, a client span under the app's own span.
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.spanContext().traceId).toBe(traceId);
    expect(send.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': `chronicle.${namespace}.command.trace.ShipCrate`,
      'messaging.operation.type': 'send',
      'chronicle.message.type': 'trace.ShipCrate',
    });
    const messageId = send.attributes['messaging.message.id'];
    expect(typeof messageId).toBe('string');
    expect(send.attributes['messaging.message.conversation_id']).toBe(
      messageId,
    );

    // B: its handling continues the context read from the NATS headers.
    expect(handling.kind).toBe(SpanKind.SERVER);
    expect(handling.spanContext().traceId).toBe(traceId);
    expect(handling.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(handling.parentSpanContext?.isRemote).toBe(true);
    expect(handling.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.message.id': messageId,
      'messaging.message.conversation_id': messageId,
      'chronicle.handler': 'ShipCrateHandler',
      'chronicle.outcome': 'ok',
    });

    // The store: the event B stored names B's handling (or a span below it).
    const [event] = await shippedEvents(b, crateId);
    const stored = storedSpanOf(event);
    expect(stored.traceId).toBe(traceId);
    expect(isWithin(stored.spanId, handling, spans)).toBe(true);
  });

  it('a command sent with no active span starts its trace at the send span, which B continues', async () => {
    const namespace = freshNamespace();
    const client = database.client();
    const b = await traceApp('b', client, schema, namespace, [ShippingModule]);
    apps.push(b);
    const a = await traceApp('a', client, schema, namespace);
    apps.push(a);
    tracing.exporter.reset();

    const crateId = `crate-${randomUUID()}`;
    await a.get(CommandBus).execute(new ShipCrate(crateId));

    await eventually(
      () => tracing.spans().some((s) => s.name === 'process trace.ShipCrate'),
      "B's handling span ended",
    );
    const spans = tracing.spans();
    const send = theSpan(spans, 'send trace.ShipCrate');
    const handling = theSpan(spans, 'process trace.ShipCrate');
    expect(send.parentSpanContext).toBeUndefined();
    expect(handling.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(handling.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
  });

  it('a request off the wire without trace context is handled in a SERVER span of its own', async () => {
    const namespace = freshNamespace();
    const client = database.client();
    const b = await traceApp('b', client, schema, namespace, [ShippingModule]);
    apps.push(b);
    const a = await traceApp('a', client, schema, namespace);
    apps.push(a);
    tracing.exporter.reset();

    // As a sender without Chronicle's spans would send it: no traceparent.
    const envelope = createEnvelope(
      new ShipCrate(`crate-${randomUUID()}`),
      'command',
    );
    expect(envelope.metadata.traceparent).toBeUndefined();
    await a
      .get(Transport)
      .request(
        messageSubject(namespace, 'command', 'trace.ShipCrate'),
        encodeRequest(envelope, payloadOf(envelope)),
        { timeoutMs: 5000, messageType: 'trace.ShipCrate' },
      );

    await eventually(
      () => tracing.spans().some((s) => s.name === 'process trace.ShipCrate'),
      "B's handling span ended",
    );
    const handling = theSpan(tracing.spans(), 'process trace.ShipCrate');
    expect(handling.kind).toBe(SpanKind.SERVER);
    expect(handling.parentSpanContext).toBeUndefined();
  });

  it('over the in-process transport (routing remote) the send span says messaging.system chronicle, and the handling is its child', async () => {
    const namespace = freshNamespace();
    const app = await traceApp(
      'solo',
      database.client(),
      schema,
      namespace,
      [ShippingModule],
      { routing: 'remote', namespace },
    );
    apps.push(app);
    tracing.exporter.reset();

    await app.get(CommandBus).execute(new ShipCrate(`crate-${randomUUID()}`));

    const spans = tracing.spans();
    const send = theSpan(spans, 'send trace.ShipCrate');
    const handling = theSpan(spans, 'process trace.ShipCrate');
    expect(send.attributes['messaging.system']).toBe('chronicle');
    expect(handling.kind).toBe(SpanKind.SERVER);
    expect(handling.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
  });
});
