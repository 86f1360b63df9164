import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import {
  Add,
  Added,
  createObservedApp,
  Remind,
  resetObserved,
} from '../../test/observed.fixture.js';
import {
  registerTracing,
  type TestTracing,
} from '../../test/trace-apps.fixture.js';
import { waitUntil } from '../../test/wait-until.js';
import { Scheduler } from '../scheduling/index.js';
import { createEnvelope, toPayload } from '../messages/index.js';
import { EventStore, type StoredEvent } from '../store/index.js';

describe('Spans of appends, loads, consumers and schedule deliveries', () => {
  const database = postgresDatabase();
  let tracing: TestTracing;
  const tracer = () => trace.getTracer('test');
  let app: INestApplicationContext | undefined;

  beforeAll(() => {
    tracing = registerTracing();
  });
  beforeEach(() => {
    resetObserved();
    tracing.exporter.reset();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await tracing.stop();
    await database.close();
  });

  const spans = () => tracing.spans();
  const named = (name: string) => spans().filter((s) => s.name === name);
  const byId = (id: string | undefined) =>
    spans().find((s) => s.spanContext().spanId === id);

  /** The tally consumer's batch span ended, and its event span before it. */
  const tallyDone = () => named('consumer obs-tally').length === 1;

  /** Whether `span` descends from the span `ancestor`, through finished spans. */
  function descends(span: ReadableSpan, ancestor: SpanContext): boolean {
    let parent = span.parentSpanContext;
    while (parent) {
      if (parent.spanId === ancestor.spanId) return true;
      parent = byId(parent.spanId)?.parentSpanContext;
    }
    return false;
  }

  /** Runs `fn` in a span of the test, as the app that sends a command would. */
  async function inTestSpan<T>(
    fn: () => Promise<T>,
  ): Promise<{ result: T; sender: SpanContext }> {
    return tracer().startActiveSpan('test sender', async (span) => {
      try {
        return { result: await fn(), sender: span.spanContext() };
      } finally {
        span.end();
      }
    });
  }

  async function start(): Promise<INestApplicationContext> {
    app = await createObservedApp({
      client: database.client(),
      schema: freshSchema('obs'),
    });
    return app;
  }

  async function storedEvent(streamId: string): Promise<StoredEvent> {
    for await (const event of app!.get(EventStore).readStream(streamId)) {
      return event;
    }
    throw new Error(`no event in ${streamId}`);
  }

  it('puts the load and append under the command sender, and continues the stored trace in the consumer, linked to its batch', async () => {
    const app = await start();
    const { sender } = await inTestSpan(() =>
      app.get(CommandBus).execute(new Add('traced-1', 5)),
    );
    await waitUntil(tallyDone, 'the tally consumer handled the event');

    const [load] = named('load obs.Counter');
    expect(load.spanContext().traceId).toBe(sender.traceId);
    expect(descends(load, sender)).toBe(true);
    expect(load.attributes['chronicle.aggregate.type']).toBe('obs.Counter');
    const [append] = named('append');
    expect(append.spanContext().traceId).toBe(sender.traceId);
    expect(descends(append, sender)).toBe(true);
    expect(append.attributes['db.system.name']).toBe('postgresql');
    expect(append.attributes['chronicle.events.appended']).toBe(1);

    // The event carries the trace it was made in; the consumer continues it.
    const event = await storedEvent('obs.Counter-traced-1');
    const [, traceId, parentId] = String(event.metadata.traceparent).split('-');
    expect(traceId).toBe(sender.traceId);
    const batch = named('consumer obs-tally')[0];
    expect(batch.parentSpanContext).toBeUndefined();
    expect(batch.attributes['messaging.operation.type']).toBe('receive');
    expect(batch.attributes['messaging.batch.message_count']).toBe(1);
    expect(batch.links.map((l) => l.context.spanId)).toEqual([parentId]);
    const processed = named('process obs.Added').find(
      (s) => s.attributes['chronicle.handler'] === 'obs-tally',
    )!;
    expect(processed.spanContext().traceId).toBe(sender.traceId);
    expect(processed.parentSpanContext?.spanId).toBe(parentId);
    expect(processed.attributes['messaging.operation.type']).toBe('process');
    expect(processed.links.map((l) => l.context.spanId)).toEqual([
      batch.spanContext().spanId,
    ]);
  });

  it('makes an event stored without a trace a child of its consumer batch', async () => {
    const app = await start();
    // An event made outside any span (a command's handling is one) and
    // appended straight to the store carries no trace context.
    const made = createEnvelope(new Added('untraced-1', 5), 'event');
    expect(made.metadata.traceparent).toBeUndefined();
    await app
      .get(EventStore)
      .append('obs.Counter-untraced-1', [
        { ...made, payload: toPayload(made.payload) },
      ]);
    await waitUntil(tallyDone, 'the tally consumer handled the event');
    const batch = named('consumer obs-tally')[0];
    expect(batch.links).toEqual([]);
    const processed = named('process obs.Added').find(
      (s) => s.attributes['chronicle.handler'] === 'obs-tally',
    )!;
    expect(processed.parentSpanContext?.spanId).toBe(
      batch.spanContext().spanId,
    );
    expect(processed.links).toEqual([]);
  });

  it('continues the trace a schedule was made in when it is delivered', async () => {
    const app = await start();
    const { sender } = await inTestSpan(() =>
      app.get(Scheduler).schedule(new Remind('later'), { delay: 0 }),
    );
    await waitUntil(
      () => named('deliver obs.Remind').length === 1,
      'the reminder was delivered',
    );
    const [delivery] = named('deliver obs.Remind');
    expect(delivery.spanContext().traceId).toBe(sender.traceId);
    expect(delivery.parentSpanContext?.spanId).toBe(sender.spanId);
    expect(delivery.attributes['chronicle.handler']).toBe('Reminders.onRemind');
  });
});
