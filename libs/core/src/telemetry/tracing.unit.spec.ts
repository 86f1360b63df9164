import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { createEnvelope, EventType } from '../index.js';
import { activeTraceMetadata, inSpan, tracingOn } from './index.js';

@EventType('tracing.Noted')
class Noted {
  constructor(readonly what: string) {}
}

// An app may register its OpenTelemetry SDK after Chronicle started, or take
// it away: spans follow whatever is registered now, and nothing is made
// without one.
describe('tracing without and with an SDK', () => {
  const exporter = new InMemorySpanExporter();

  afterEach(() => {
    trace.disable();
    propagation.disable();
    context.disable();
    exporter.reset();
  });

  function registerSdk(): void {
    context.setGlobalContextManager(
      new AsyncLocalStorageContextManager().enable(),
    );
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
      }),
    );
  }

  it('makes no span and puts no trace in metadata while no SDK is registered', async () => {
    expect(tracingOn()).toBe(false);
    const envelope = await inSpan('work', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      return createEnvelope(new Noted('x'), 'event');
    });
    expect(envelope.metadata.traceparent).toBeUndefined();
    expect(activeTraceMetadata()).toBeUndefined();
  });

  it('follows an SDK registered later, and one taken away again', async () => {
    registerSdk();
    expect(tracingOn()).toBe(true);
    const envelope = await inSpan('work', {}, async () =>
      createEnvelope(new Noted('x'), 'event'),
    );
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('work');
    // The event made inside the span names it as its trace parent.
    expect(envelope.metadata.traceparent).toBe(
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );

    trace.disable();
    expect(tracingOn()).toBe(false);
    await inSpan('after', {}, async () => undefined);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['work']);
  });

  it('ends a span whose work failed, marked as failed', async () => {
    registerSdk();
    await expect(
      inSpan('broken', {}, async () => {
        throw new TypeError('nope');
      }),
    ).rejects.toThrow('nope');
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toMatchObject({ code: 2, message: 'nope' });
    expect(span.attributes['error.type']).toBe('TypeError');
  });
});
