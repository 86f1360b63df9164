import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telemetry } from '../telemetry/index.js';

/**
 * Serves the metrics registry for Prometheus: at `metrics.path` (default
 * `/metrics`) on the app's own HTTP server when it has one, and on a
 * listener of its own when `metrics.port` is set (a microclient made with
 * `createApplicationContext` has no HTTP server).
 */
@Injectable()
export class MetricsEndpoint implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Chronicle');
  private server?: Server;

  constructor(
    private readonly telemetry: Telemetry,
    @Optional() private readonly http?: HttpAdapterHost,
  ) {}

  /** Where the own listener listens, once started (its port when 0 was asked). */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  async onModuleInit(): Promise<void> {
    const metrics = this.telemetry.metrics;
    const options = this.telemetry.metricsOptions;
    if (!metrics || !options) return;
    const path = options.path ?? '/metrics';
    // Routes added before Nest registers its not-found handler (after the
    // modules' init hooks) are served like the app's own.
    const adapter = this.http?.httpAdapter;
    if (path !== false && adapter) {
      adapter.get(path, async (_request: unknown, response: unknown) => {
        const body = await metrics.registry.metrics();
        adapter.setHeader(
          response,
          'Content-Type',
          metrics.registry.contentType,
        );
        adapter.reply(response, body, 200);
      });
    }
    if (options.port !== undefined)
      await this.listen(options.port, options.host);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async listen(port: number, host = '0.0.0.0'): Promise<void> {
    const registry = this.telemetry.metrics!.registry;
    const server = createServer((request, response) => {
      if (
        request.method !== 'GET' ||
        request.url?.split('?')[0] !== '/metrics'
      ) {
        response.writeHead(404).end();
        return;
      }
      registry.metrics().then(
        (body) => {
          response.writeHead(200, { 'Content-Type': registry.contentType });
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(500).end(String(error));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port: bound } = this.address()!;
    this.logger.log(`Metrics at http://${host}:${bound}/metrics`);
  }
}
