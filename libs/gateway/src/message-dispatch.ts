import { Injectable } from '@nestjs/common';
import {
  checkId,
  CurrentUser,
  fromPayload,
  MessageGateway,
  MessageTypeRegistry,
  newMessageId,
  validateMessage,
  type MessageClass,
} from '@chronicle/core';
import { GatewayError } from './problem-details.js';

/** What a command or query sent through the gateway answered. */
export interface DispatchResult {
  readonly id: string;
  readonly result: unknown;
}

/**
 * Turns an HTTP request into a message and sends it through the buses like
 * any other: the type's class rebuilt from the JSON body, fields it does not
 * declare removed, its class-validator rules checked here (a 400 before
 * anything travels), then sent as the request's user with the
 * `Idempotency-Key` as the command's id.
 */
@Injectable()
export class MessageDispatch {
  constructor(
    private readonly gateway: MessageGateway,
    private readonly currentUser: CurrentUser<unknown>,
  ) {}

  async dispatch(
    kind: 'command' | 'query',
    type: string,
    body: unknown,
    options: {
      readonly idempotencyKey?: string;
      readonly user?: unknown;
      readonly timeoutMs?: number;
    },
  ): Promise<DispatchResult> {
    const target = classOf(kind, type);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new GatewayError(
        'MALFORMED_MESSAGE',
        `The body of ${type} must be a JSON object.`,
      );
    }
    const id =
      options.idempotencyKey === undefined
        ? newMessageId()
        : checkId(options.idempotencyKey, 'Idempotency-Key header');
    const message = fromPayload(target, body as Record<string, unknown>);
    await validateMessage(message, type, 'strip');
    const send = () =>
      kind === 'command'
        ? this.gateway.send(message, { id, timeoutMs: options.timeoutMs })
        : this.gateway.query(message, { id, timeoutMs: options.timeoutMs });
    const result: unknown =
      options.user === undefined || options.user === null
        ? await send()
        : await this.currentUser.runAs(options.user, send);
    return { id, result };
  }
}

/** The registered class of `type`, which must be of `kind`; 404 otherwise. */
function classOf(
  kind: 'command' | 'query',
  type: string,
): MessageClass<object> {
  const info = MessageTypeRegistry.forName(type);
  if (!info || (info.kind !== 'command' && info.kind !== 'query')) {
    throw new GatewayError(
      'UNKNOWN_MESSAGE_TYPE',
      `No ${kind} type "${type}" is registered in this app: see /openapi.json for the ones it knows.`,
    );
  }
  if (info.kind !== kind) {
    throw new GatewayError(
      'UNKNOWN_MESSAGE_TYPE',
      `"${type}" is a ${info.kind}: send it to /${info.kind === 'command' ? 'commands' : 'queries'}/${type}.`,
    );
  }
  return info.target as MessageClass<object>;
}
