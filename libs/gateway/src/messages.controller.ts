import {
  Controller,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { GatewayGuard } from './gateway.guard.js';
import {
  GATEWAY_OPTIONS,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
import type { GatewayRequest } from './http-types.js';
import { MessageDispatch, type DispatchResult } from './message-dispatch.js';
import { GatewayError } from './problem-details.js';

/**
 * `POST /commands/{type}` and `POST /queries/{type}`: a JSON body in, the
 * handler's result out as `{ id, result }` (200), or a problem+json.
 */
@Controller()
@UseGuards(GatewayGuard)
export class MessagesController {
  constructor(
    private readonly dispatch: MessageDispatch,
    @Inject(GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
  ) {}

  @Post('commands/:type')
  @HttpCode(200)
  command(
    @Param('type') type: string,
    @Req() request: GatewayRequest,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<DispatchResult> {
    return this.send('command', type, request, idempotencyKey);
  }

  @Post('queries/:type')
  @HttpCode(200)
  query(
    @Param('type') type: string,
    @Req() request: GatewayRequest,
  ): Promise<DispatchResult> {
    return this.send('query', type, request, undefined);
  }

  private send(
    kind: 'command' | 'query',
    type: string,
    request: GatewayRequest,
    idempotencyKey: string | undefined,
  ): Promise<DispatchResult> {
    checkBody(request, this.options.maxBodyBytes);
    return this.dispatch.dispatch(kind, type, request.body ?? {}, {
      idempotencyKey,
      user: request.user,
      timeoutMs: this.options.timeoutMs,
    });
  }
}

/** A JSON body (or none), within the size limit. */
function checkBody(request: GatewayRequest, maxBytes: number): void {
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > maxBytes) {
    throw new GatewayError(
      'REQUEST_TOO_LARGE',
      `The request body has ${length} bytes; the gateway takes at most ${maxBytes}.`,
    );
  }
  const type = request.headers['content-type'];
  if (
    length > 0 &&
    !/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type ?? '')
  ) {
    throw new GatewayError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Send the body as JSON with Content-Type: application/json (got ${type === undefined ? 'none' : JSON.stringify(type)}).`,
    );
  }
}
