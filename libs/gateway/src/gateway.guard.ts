import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  GATEWAY_OPTIONS,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
import type { GatewayRequest } from './http-types.js';
import { RateLimit } from './rate-limit.js';

/**
 * The gateway's routes' guard: the rate limit, then the
 * guards the app gave in `guards`, in order (each resolved from the app's
 * providers when it is one, else made once).
 */
@Injectable()
export class GatewayGuard implements CanActivate {
  private readonly made = new Map<object, CanActivate>();
  private readonly rateLimit?: RateLimit;

  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    const limit = options.rateLimit;
    if (limit !== false)
      this.rateLimit = new RateLimit(limit.limit, limit.ttlMs);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.rateLimit) {
      const request = context.switchToHttp().getRequest<GatewayRequest>();
      this.rateLimit.take(request.ip ?? request.socket.remoteAddress ?? '?');
    }
    for (const type of this.options.guards) {
      const guard = await this.guard(type);
      if (!(await guard.canActivate(context))) return false;
    }
    return true;
  }

  private async guard(
    type: ResolvedGatewayOptions['guards'][number],
  ): Promise<CanActivate> {
    const known = this.made.get(type);
    if (known) return known;
    let guard: CanActivate;
    try {
      guard = this.moduleRef.get(type, { strict: false });
    } catch {
      guard = await this.moduleRef.create(type);
    }
    this.made.set(type, guard);
    return guard;
  }
}
