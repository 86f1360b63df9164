import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { outcomeOf, type Envelope } from '../messages/index.js';
import {
  ATTR,
  inSpan,
  OFF_THE_WIRE,
  secondsSince,
  tracingOn,
  type Telemetry,
} from '../telemetry/index.js';

/**
 * The message handled: its type at once, its envelope (made when first read,
 * see `deferEnvelope`) only for a recording span.
 */
export interface HandledMessage {
  readonly type: string;
  readonly envelope: Envelope;
}

/**
 * One handling of one message, retries included: its span (a child of the
 * sender's span, which a request off the wire brings as the active
 * context) and, with metrics on, its count and duration by outcome.
 */
export function observeHandling(
  telemetry: Telemetry,
  kind: 'command' | 'query',
  handler: object,
  message: HandledMessage,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const metrics = telemetry.metrics;
  const tracing = tracingOn();
  // Nothing to observe: the handling as it is, not one layer more.
  if (metrics === undefined && !tracing) return run();
  const start = metrics === undefined ? 0 : performance.now();
  // Metrics alone: no span to look for a parent of.
  const handling = tracing
    ? inHandlingSpan(kind, handler, message, run)
    : run();
  if (metrics === undefined) return handling;
  const type = message.type;
  const name = handlerClassName(handler);
  return handling.then(
    (result) => {
      metrics.handled(kind, type, name, secondsSince(start), 'ok');
      return result;
    },
    (error: unknown) => {
      metrics.handled(kind, type, name, secondsSince(start), outcomeOf(error));
      throw error;
    },
  );
}

/**
 * The handling's span: SERVER when the message came off the wire (its parent
 * is the remote sender's span, or none when the sender sent no trace
 * context); a nested local handling has its handler's span active, and is
 * INTERNAL.
 */
function inHandlingSpan(
  kind: 'command' | 'query',
  handler: object,
  message: HandledMessage,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const active = context.active();
  const parentSpan = trace.getSpanContext(active);
  const remote =
    parentSpan === undefined
      ? active.getValue(OFF_THE_WIRE) === true
      : parentSpan.isRemote === true;
  return inSpan(
    `process ${message.type}`,
    { kind: remote ? SpanKind.SERVER : SpanKind.INTERNAL },
    (span) =>
      span.isRecording()
        ? traced(span, kind, handler, message.envelope, run)
        : run(),
    active,
  );
}

/** Runs a handling in its recording span, with the attributes a trace viewer shows. */
async function traced(
  span: Span,
  kind: 'command' | 'query',
  handler: object,
  envelope: Envelope,
  run: () => Promise<unknown>,
): Promise<unknown> {
  span.setAttributes({
    [ATTR.operationType]: 'process',
    [ATTR.operationName]: `handle ${kind}`,
    [ATTR.messageId]: envelope.id,
    [ATTR.conversationId]: envelope.metadata.correlationId,
    [ATTR.messageType]: envelope.type,
    [ATTR.handler]: handlerClassName(handler),
  });
  try {
    const result = await run();
    span.setAttribute(ATTR.outcome, 'ok');
    return result;
  } catch (error) {
    span.setAttribute(ATTR.outcome, outcomeOf(error));
    throw error;
  }
}

/** The handler label of metrics: its class's name. */
function handlerClassName(handler: object): string {
  return handler.constructor?.name ?? 'handler';
}
