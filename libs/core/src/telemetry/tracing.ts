import {
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/*
 * Tracing on @opentelemetry/api alone: the app brings (or not) its SDK. With
 * no SDK registered every call here is a no-op of the API, and a span that
 * records nothing is never made the active one.
 */

let provider: TracerProvider | undefined;
let current: Tracer | undefined;

/**
 * The global provider's tracer, asked again whenever the global provider
 * changes: an SDK registered after start, or removed (`trace.disable()`), is
 * followed, which a tracer taken once at import would not do.
 */
function currentTracer(): Tracer {
  const global = trace.getTracerProvider();
  if (global !== provider || current === undefined) {
    provider = global;
    current = global.getTracer('@chronicle/core');
  }
  return current;
}

// What the API's global provider delegates to while no SDK is registered.
const NO_SDK = new ProxyTracerProvider().getDelegate();
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether an OpenTelemetry SDK is registered: without one, Chronicle makes no
 * span at all rather than the API's no-op ones (a few hundred ns a message).
 * A provider the API does not know as its own proxy counts as an SDK.
 */
export function tracingOn(): boolean {
  const global = trace.getTracerProvider();
  return (
    !(global instanceof ProxyTracerProvider) || global.getDelegate() !== NO_SDK
  );
}

/** The tracer Chronicle's spans come from: always the global provider's. */
export const tracer: Tracer = {
  startSpan: (name, options, parent) =>
    currentTracer().startSpan(name, options, parent),
  startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
    (currentTracer().startActiveSpan as (...a: unknown[]) => unknown)(
      ...args,
    )) as Tracer['startActiveSpan'],
};

/**
 * Marks the context a request off the wire is handled in: its handling is a
 * SERVER span even when the sender sent no trace context to continue.
 */
export const OFF_THE_WIRE = createContextKey('chronicle.off-the-wire');

/** The keys of W3C trace context, as they travel in metadata and headers. */
export const TRACE_KEYS = ['traceparent', 'tracestate'] as const;

/** W3C trace context of a message, as stored in its metadata. */
export interface TraceMetadata {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/**
 * The active span's context as metadata for a message made now (sent or
 * stored), through the app's propagator (W3C by default in the OpenTelemetry
 * SDK), or undefined when no span is active.
 */
export function activeTraceMetadata(
  active: Context = context.active(),
): TraceMetadata | undefined {
  const spanContext = trace.getSpanContext(active);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) {
    return undefined;
  }
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  if (typeof carrier.traceparent !== 'string') return undefined;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/** The context a message's metadata carries, to continue its trace; undefined when none. */
export function traceContextOf(
  metadata: Readonly<Record<string, unknown>> | undefined,
): Context | undefined {
  const traceparent = metadata?.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const carrier: Record<string, string> = { traceparent };
  if (typeof metadata?.tracestate === 'string') {
    carrier.tracestate = metadata.tracestate;
  }
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  const spanContext = trace.getSpanContext(extracted);
  return spanContext && isSpanContextValid(spanContext) ? extracted : undefined;
}

/** A link to the span a message's metadata names (a stored event read later). */
export function traceLinkOf(
  metadata: Readonly<Record<string, unknown>> | undefined,
  attributes?: Attributes,
): Link | undefined {
  const extracted = traceContextOf(metadata);
  const spanContext = extracted && trace.getSpanContext(extracted);
  return spanContext ? { context: spanContext, attributes } : undefined;
}

/**
 * Runs `fn` in a new span, a child of `parent` (default: the active context),
 * and ends it when `fn` settles; a thrown error marks it failed. A span that
 * records nothing and has no valid context (no SDK) is not made active.
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  if (!tracingOn()) return fn(NO_SPAN);
  parent ??= context.active();
  const span = tracer.startSpan(name, options, parent);
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) {
    return fn(span);
  }
  return context.with(trace.setSpan(parent, span), () =>
    fn(span).then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    ),
  );
}

/** Marks a span as failed by `error`. */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setAttribute('error.type', err.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

/** Semantic-convention attribute names Chronicle sets (OpenTelemetry messaging and database conventions). */
export const ATTR = {
  messagingSystem: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  consumerGroup: 'messaging.consumer.group.name',
  batchSize: 'messaging.batch.message_count',
  dbSystem: 'db.system.name',
  dbOperation: 'db.operation.name',
  dbNamespace: 'db.namespace',
  messageType: 'chronicle.message.type',
  handler: 'chronicle.handler',
  outcome: 'chronicle.outcome',
  streamId: 'chronicle.stream.id',
  aggregate: 'chronicle.aggregate.type',
  eventsRead: 'chronicle.events.read',
  eventsAppended: 'chronicle.events.appended',
  consumer: 'chronicle.consumer',
  segment: 'chronicle.consumer.segment',
} as const;
