import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  ExportResultCode,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

/**
 * An exporter that drops every span and reports success: the SDK does all
 * its work (sampling, recording, batching) and nothing leaves the process.
 * It counts what it was given, to prove spans were made.
 */
class DroppingExporter implements SpanExporter {
  spans = 0;

  export(
    spans: ReadableSpan[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    this.spans += spans.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An OpenTelemetry SDK as an app registers it, sampling every trace, with
 * its default batch processor over an exporter that drops spans. Tracing is
 * process-wide, so contenders that take turns in one process register it
 * (`register`) or remove it (`remove`) before each of their rounds.
 */
export class BenchTracingSdk {
  private readonly exporter = new DroppingExporter();
  private readonly provider = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor({ exporter: this.exporter })],
  });
  private readonly contextManager = new AsyncLocalStorageContextManager();
  private readonly propagator = new W3CTraceContextPropagator();

  /** Makes this SDK the global one (after removing whatever was there). */
  register(): void {
    BenchTracingSdk.remove();
    // `context.disable()` disabled the manager when it was last removed.
    context.setGlobalContextManager(this.contextManager.enable());
    propagation.setGlobalPropagator(this.propagator);
    trace.setGlobalTracerProvider(this.provider);
  }

  /** No SDK: the API's no-op tracer, context manager and propagator. */
  static remove(): void {
    trace.disable();
    context.disable();
    propagation.disable();
  }

  /** Spans exported (and dropped) so far, once the batch in hand is flushed. */
  async spansExported(): Promise<number> {
    await this.provider.forceFlush();
    return this.exporter.spans;
  }

  async shutdown(): Promise<void> {
    BenchTracingSdk.remove();
    await this.provider.shutdown();
  }
}
