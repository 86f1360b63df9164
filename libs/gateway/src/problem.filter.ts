import { Catch, Inject, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import {
  GATEWAY_OPTIONS,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
import {
  pathOf,
  type GatewayRequest,
  type GatewayResponse,
} from './http-types.js';
import { problemOf } from './problem-details.js';
import { TooManyRequests } from './rate-limit.js';

/**
 * Answers every failure of a request under the gateway's path as RFC 9457
 * problem+json, including those that happen before a route runs (a body
 * that is not JSON, or too large for the body parser), which only a global
 * filter sees. Requests elsewhere in the app go on to Nest's own handling.
 */
@Catch()
export class ProblemFilter extends BaseExceptionFilter {
  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const request = host.switchToHttp().getRequest<GatewayRequest>();
    const response = host.switchToHttp().getResponse<GatewayResponse>();
    const path = pathOf(request);
    if (!this.isGatewayPath(path)) return super.catch(exception, host);
    const idempotencyKey = request.headers['idempotency-key'];
    const problem = problemOf(
      exception,
      path,
      typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
    );
    if (response.headersSent) {
      response.end();
      return;
    }
    response.statusCode = problem.status;
    response.setHeader('Content-Type', 'application/problem+json');
    if (exception instanceof TooManyRequests)
      response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    else if (problem.status === 503) response.setHeader('Retry-After', '1');
    response.end(JSON.stringify(problem));
  }

  private isGatewayPath(path: string): boolean {
    const base = this.options.basePath;
    const rest = path.startsWith(base) ? path.slice(base.length) : undefined;
    return (
      rest !== undefined &&
      /^\/(commands|queries)\/|^\/events(\/|$)|^\/openapi\.json$/.test(rest)
    );
  }
}
