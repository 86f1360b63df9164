import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { outcomeOf, type Envelope } from '../messages/index.js';
import {
  ATTR,
  inSpan,
  type ChronicleMetrics,
  type Outcome,
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

/** What one handling is observed by: its recording span, metrics, or both. */
interface Observers {
  readonly metrics: ChronicleMetrics | undefined;
  readonly span: Span | undefined;
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
  // Nothing to observe: the handling as it is, not one layer more.
  if (!tracingOn()) {
    return metrics === undefined
      ? run()
      : observed({ metrics, span: undefined }, kind, handler, message, run);
  }
  // SERVER when the message came off the wire: its parent is the remote
  // sender's span, or none when the sender sent no trace context (a nested
  // local handling has its handler's span active, and is INTERNAL).
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
      observed(
        { metrics, span: span.isRecording() ? span : undefined },
        kind,
        handler,
        message,
        run,
      ),
    active,
  );
}

/**
 * Runs a handling and records its outcome, in one promise layer for both
 * observers: the span's attributes a trace viewer shows, the metrics' count
 * and duration.
 */
function observed(
  { metrics, span }: Observers,
  kind: 'command' | 'query',
  handler: object,
  message: HandledMessage,
  run: () => Promise<unknown>,
): Promise<unknown> {
  if (span === undefined && metrics === undefined) return run();
  const name = handlerClassName(handler);
  const start = metrics === undefined ? 0 : performance.now();
  let running: Promise<unknown>;
  try {
    if (span !== undefined) {
      // Read here: the envelope is made when first read.
      const envelope = message.envelope;
      span.setAttributes({
        [ATTR.operationType]: 'process',
        [ATTR.operationName]: `handle ${kind}`,
        [ATTR.messageId]: envelope.id,
        [ATTR.conversationId]: envelope.metadata.correlationId,
        [ATTR.messageType]: envelope.type,
        [ATTR.handler]: name,
      });
    }
    running = run();
  } catch (error) {
    // Making the envelope failed: counted and shown as the handling's outcome.
    running = Promise.reject(error);
  }
  const ended = (outcome: Outcome): void => {
    span?.setAttribute(ATTR.outcome, outcome);
    metrics?.handled(kind, message.type, name, secondsSince(start), outcome);
  };
  return running.then(
    (result) => {
      ended('ok');
      return result;
    },
    (error: unknown) => {
      ended(outcomeOf(error));
      throw error;
    },
  );
}

/** The handler label of metrics: its class's name. */
function handlerClassName(handler: object): string {
  return handler.constructor?.name ?? 'handler';
}
