// Preloaded by `npm run start:<app>` (`node --import ./apps/tracing.mjs`):
// starts the OpenTelemetry Node SDK before the app's modules load, so the
// spans Chronicle makes through @opentelemetry/api are exported over OTLP
// HTTP. Only when OTEL_EXPORTER_OTLP_ENDPOINT is set (e.g.
// http://127.0.0.1:4318, the compose profile's Jaeger); without it nothing is
// loaded and @opentelemetry/api stays a no-op.
import { basename, dirname } from 'node:path';

if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    await import('@opentelemetry/exporter-trace-otlp-http');

  const sdk = new NodeSDK({
    // apps/orders/dist/main.js -> orders, unless OTEL_SERVICE_NAME says otherwise.
    serviceName: process.env.OTEL_SERVICE_NAME
      ? undefined
      : basename(dirname(dirname(process.argv[1] ?? 'app/dist/main.js'))),
    // Reads OTEL_EXPORTER_OTLP_ENDPOINT and adds /v1/traces.
    traceExporter: new OTLPTraceExporter(),
    // Traces only: metrics are prom-client's (/metrics), and the SDK would
    // otherwise also send metrics and logs over OTLP, which Jaeger refuses.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  // Send the last spans before the process ends. The SDK's shutdown does not
  // hold the event loop open by itself (a script that ends, or is killed,
  // early would exit before the export), so a timer holds it until it is done.
  let shutdown;
  const flush = () =>
    (shutdown ??= new Promise((done) => {
      const hold = setInterval(() => {}, 1000);
      sdk
        .shutdown()
        .catch(() => {})
        .finally(() => {
          clearInterval(hold);
          done();
        });
    }));
  // A script that simply ends (scripts/shop-traffic.mjs).
  process.once('beforeExit', () => void flush());
  // Nest's shutdown hooks re-raise the signal once the app is closed; if
  // nothing else listens, re-raise it here so the process still ends.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      void flush().then(() => {
        if (process.listenerCount(signal) === 0)
          process.kill(process.pid, signal);
      });
    });
  }
}
