import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  AsyncContext,
  CommandBus,
  QueryBus,
  type ICommandHandler,
  type IQueryHandler,
} from '@nestjs/cqrs';
import {
  context as traceContext,
  ROOT_CONTEXT,
  SpanKind,
  type Span,
} from '@opentelemetry/api';
import {
  assignedIdOf,
  fromPayload,
  makeEnvelope,
  MessageContext,
  MESSAGE_OPTIONS,
  MessageTypeRegistry,
  payloadOf,
  UnsupportedRevisionError,
  validateMessage,
  type MessageOptions,
  type MessageTypeInfo,
} from '../messages/index.js';
import {
  ATTR,
  inSpan,
  secondsSince,
  Telemetry,
  traceContextOf,
  OFF_THE_WIRE,
} from '../telemetry/index.js';
import {
  decodeReply,
  decodeRequest,
  encodeError,
  encodeRequest,
  encodeResult,
  fittingReply,
  messageIdOf,
  messageSubject,
  presenceSubject,
  Transport,
  TRANSPORT_OPTIONS,
  transportErrorKind,
  type DecodedRequest,
  type RequestListener,
  type RoutedType,
  type ResolvedTransportOptions,
  type WireMessage,
} from '../transport/index.js';
import { CommandPipeline } from './command-pipeline.js';
import { EnabledModules } from './enabled-modules.js';
import { MalformedMessageLog } from './malformed-message-log.js';
import {
  RequestScopedDispatch,
  ScopedHandlers,
} from './request-scoped-dispatch.js';
import {
  attachSendOptions,
  sendOptionsOf,
  type InternalSendOptions,
} from './send-options.js';
import { logHandlingFailure, logServedFailure } from './served-failures.js';

/*
 * @nestjs/cqrs's own metadata keys: the handled class of a handler, and the id
 * of a message class. A test pins them, so that an upgrade fails loudly.
 */
const CQRS_KEYS = {
  command: { handler: '__commandHandler__', id: '__command__' },
  query: { handler: '__queryHandler__', id: '__query__' },
} as const;

/** A send's span options, the same for every send. */
const CLIENT_SPAN = { kind: SpanKind.CLIENT } as const;

/** The context a request off the wire with no trace context is handled in. */
const SERVED_ROOT = ROOT_CONTEXT.setValue(OFF_THE_WIRE, true);

type RoutedKind = keyof typeof CQRS_KEYS;
type Handler = ICommandHandler | IQueryHandler;
type Bindable = Parameters<CommandBus['bind']>[0];
/** Runs or sends a message; `context` is @nestjs/cqrs's, when a request-scoped handler runs here. */
type Execute = (message: object, context?: AsyncContext) => Promise<unknown>;

/**
 * Decides where each command and query runs, using only @nestjs/cqrs's public
 * `bind`. After cqrs has registered the handlers, every message type is bound
 * again under the same id: to a local proxy that runs the pipeline around this
 * process's handler, or to a remote proxy that sends it over the transport.
 * Every enabled local handler of a named type is also served on the transport,
 * in a queue group named after its subject, so other processes can reach it
 * and each message runs once, whichever apps serve it.
 *
 * This lives in a non-global module on purpose: Nest runs the bootstrap hooks
 * of global modules (CqrsModule) first, so these bindings are the ones that stay.
 */
@Injectable()
export class MessageRouter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Chronicle');
  /** The named command types an enabled handler of this process serves. */
  private readonly commandsServed = new Set<string>();
  /** What this process serves and sends over the transport, as bootstrap bound it. */
  private readonly routed: { served: RoutedType[]; sent: RoutedType[] } = {
    served: [],
    sent: [],
  };

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly pipeline: CommandPipeline,
    private readonly scopedHandlers: ScopedHandlers,
    private readonly transport: Transport,
    @Inject(TRANSPORT_OPTIONS)
    private readonly options: ResolvedTransportOptions,
    private readonly enabledModules: EnabledModules,
    private readonly malformed: MalformedMessageLog,
    @Inject(MESSAGE_OPTIONS) private readonly messages: MessageOptions,
    @Optional() private readonly telemetry: Telemetry = Telemetry.off,
  ) {
    enabledModules.countAsWork('command and query handlers', (type) =>
      Object.values(CQRS_KEYS).some(({ handler }) =>
        Reflect.hasMetadata(handler, type),
      ),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    const handledHere = new Set<string>();
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.instance?.constructor ?? wrapper.metatype;
      if (typeof type !== 'function') continue;
      for (const kind of Object.keys(CQRS_KEYS) as RoutedKind[]) {
        const handled = Reflect.getMetadata(CQRS_KEYS[kind].handler, type) as
          object | undefined;
        if (!handled || !this.enabledModules.isEnabled(wrapper)) continue;
        const { id } = Reflect.getMetadata(CQRS_KEYS[kind].id, handled) as {
          id: string;
        };
        const local = this.localExecute(wrapper, kind);
        const info = MessageTypeRegistry.forClass(
          handled as MessageTypeInfo['target'],
        );
        // Served requests are logged by the listener; these by `logged`.
        const runLocally = this.logged(
          info?.name ?? (handled as { name: string }).name,
          local,
        );
        const runHere = (): void =>
          wrapper.isDependencyTreeStatic()
            ? this.bind(kind, id, runLocally)
            : this.bindScoped(kind, id, handled, runLocally);
        if (!info) {
          // A plain cqrs message without a stable name can only run here.
          runHere();
          continue;
        }
        handledHere.add(info.name);
        if (kind === 'command') this.commandsServed.add(info.name);
        await this.serve(info, local);
        if (this.options.routing === 'local') runHere();
        else this.bind(kind, id, this.remoteExecute(info));
      }
    }
    for (const info of MessageTypeRegistry.all()) {
      if (info.kind === 'event' || handledHere.has(info.name)) continue;
      this.bind(info.kind, info.name, this.remoteExecute(info));
    }
  }

  /**
   * Serves a type in one queue group per subject, shared by every app that
   * serves it: each message runs once, in one of them. Two different apps
   * serving one type is usually a mistake (a monolith next to the service it
   * was split into): each is told of the other, and warns.
   */
  private async serve(info: MessageTypeInfo, local: Execute): Promise<void> {
    const { namespace, app } = this.options;
    const subject = messageSubject(namespace, info.kind, info.name);
    this.routed.served.push(routedType(info));
    await this.transport.serve(
      subject,
      subject,
      this.listener(info, local),
      this.options.serveLimits,
    );
    const warned = new Set<string>();
    await this.transport.announce(
      presenceSubject(namespace, info.kind, info.name),
      app,
      (other) => {
        if (warned.has(other)) return;
        warned.add(other);
        this.logger.warn(
          `${info.name} is served by two apps on namespace "${namespace}": "${app}" (this one) and ` +
            `"${other}". Each ${info.kind} runs in one of them, as NATS picks; if that is not ` +
            'intended, enable its handler in one app only (`enabled` in ChronicleModule.forRoot).',
        );
      },
    );
  }

  /**
   * The named command types this process handles (its enabled handlers), once
   * bootstrapped: what its scheduler delivers of `sendAndForget`.
   */
  servedCommandTypes(): string[] {
    return [...this.commandsServed];
  }

  /**
   * The named types this process serves over the transport and the ones it
   * sends there (every registered type bound to a remote handler), once
   * bootstrapped: what `npx chronicle nats-permissions` reads.
   */
  routes(): { served: RoutedType[]; sent: RoutedType[] } {
    return { served: [...this.routed.served], sent: [...this.routed.sent] };
  }

  /** Stop taking requests and answer the ones in flight; the database closes after. */
  async onModuleDestroy(): Promise<void> {
    await this.transport.drain();
    this.malformed.flush();
  }

  private bind(kind: RoutedKind, id: string, execute: Execute): void {
    const handler = {
      isDependencyTreeStatic: () => true,
      instance: { execute },
    };
    const bindable = handler as unknown as Bindable;
    if (kind === 'command') this.commandBus.bind(bindable, id);
    else this.queryBus.bind(bindable, id);
  }

  /**
   * Binds a request-scoped handler the way @nestjs/cqrs binds its own: as not
   * static, so that the bus resolves (per AsyncContext) what runs it, and
   * hands it the context given to `execute`, which a static binding drops.
   */
  private bindScoped(
    kind: RoutedKind,
    id: string,
    handled: object,
    execute: Execute,
  ): void {
    this.scopedHandlers.set(handled, execute);
    const handler = {
      isDependencyTreeStatic: () => false,
      metatype: RequestScopedDispatch,
    };
    const bindable = handler as unknown as Bindable;
    if (kind === 'command') this.commandBus.bind(bindable, id);
    else this.queryBus.bind(bindable, id);
  }

  /** Runs the pipeline around this process's handler. */
  private localExecute(wrapper: InstanceWrapper, kind: RoutedKind): Execute {
    const run = (handler: Handler, message: object, context?: AsyncContext) =>
      kind === 'command'
        ? this.pipeline.executeCommand(
            handler as ICommandHandler,
            message,
            context,
          )
        : this.pipeline.executeQuery(handler as IQueryHandler, message);
    const execute: Execute = wrapper.isDependencyTreeStatic()
      ? (message) => run(wrapper.instance as Handler, message)
      : async (message, given) => {
          // Request-scoped: the instance of the caller's context (a request
          // off the wire gets a new one), as @nestjs/cqrs resolves it.
          const context = this.contextOf(message, given);
          const handler = await this.moduleRef.resolve<Handler>(
            wrapper.metatype as never,
            context.id,
            { strict: false },
          );
          return run(handler, message, context);
        };
    return execute;
  }

  /**
   * Logs the failure of a command or query run in this process (routing
   * `local`) once, as the listener logs a served one: the caller hears of it,
   * but the log is where an operator looks.
   */
  private logged(messageType: string, local: Execute): Execute {
    return (message, given) =>
      local(message, given).catch((error: unknown) => {
        const sent: InternalSendOptions = sendOptionsOf(message);
        const messageId = assignedIdOf(message) ?? sent.id ?? '(no id)';
        const correlation = sent.metadata?.correlationId;
        logHandlingFailure(this.logger, error, {
          messageType,
          messageId,
          correlationId:
            typeof correlation === 'string'
              ? correlation
              : (MessageContext.current()?.metadata.correlationId ?? messageId),
        });
        throw error;
      });
  }

  /** The context a request-scoped handler runs in: given, attached to the message, or new. */
  private contextOf(message: object, given?: AsyncContext): AsyncContext {
    let context = given ?? AsyncContext.of(message);
    if (!context) {
      context = new AsyncContext();
      this.moduleRef.registerRequestByContextId(context, context.id);
    }
    // What the handler sends can carry it on (AsyncContext.merge, sagas).
    if (!AsyncContext.isAttached(message)) context.attachTo(message);
    return context;
  }

  /**
   * Sends the message over the transport and turns the reply into a result or
   * a typed error. The class is known here, so an invalid message fails at
   * once with the `ValidationError` the serving side would give, even when no
   * app serves its type.
   */
  private remoteExecute(info: MessageTypeInfo): Execute {
    this.routed.sent.push(routedType(info));
    const subject = messageSubject(
      this.options.namespace,
      info.kind,
      info.name,
    );
    // The in-process transport is Chronicle's own, not a messaging system's.
    const system =
      this.transport.status().kind === 'nats' ? 'nats' : 'chronicle';
    const spanName = `send ${info.name}`;
    const kind = info.kind === 'command' ? 'command' : 'query';
    const send = (message: object, span: Span): Promise<unknown> => {
      const sent = sendOptionsOf(message);
      // Made inside the send span: the receiver continues this span.
      const { envelope, firstSend } = makeEnvelope(message, info.kind, sent);
      if (span.isRecording()) {
        span.setAttributes({
          [ATTR.messagingSystem]: system,
          [ATTR.destination]: subject,
          [ATTR.operationType]: 'send',
          [ATTR.operationName]: `send ${kind}`,
          [ATTR.messageId]: envelope.id,
          [ATTR.conversationId]: envelope.metadata.correlationId,
          [ATTR.messageType]: info.name,
        });
      }
      const wire = encodeRequest(envelope, payloadOf(envelope), {
        firstSend,
        app: this.options.app,
      });
      return this.transport
        .request(subject, wire, {
          timeoutMs: sent.timeoutMs ?? this.options.timeoutMs,
          messageType: info.name,
        })
        .then((reply) => decodeReply(reply, info.name, envelope.id));
    };
    return async (message) => {
      // The sender has the class: its undeclared fields never leave this process.
      await validateMessage(message, info.name, this.messages.unknownFields);
      const metrics = this.telemetry.metrics;
      // The round trip from before the envelope is made and encoded.
      const start = metrics === undefined ? 0 : performance.now();
      const sending = inSpan(spanName, CLIENT_SPAN, (span) =>
        send(message, span),
      );
      if (metrics === undefined) return sending;
      try {
        const result = await sending;
        metrics.requested(kind, info.name, secondsSince(start), 'ok');
        return result;
      } catch (error) {
        metrics.requested(kind, info.name, secondsSince(start), 'error');
        const failed = transportErrorKind(error);
        if (failed !== undefined) {
          metrics.transportErrors.inc({ kind, type: info.name, error: failed });
        }
        throw error;
      }
    };
  }

  /**
   * Answers requests off the wire with the local handler. A request that
   * cannot be read is refused before any handler runs: counted and logged at
   * a bounded rate (`MalformedMessageLog`). A handler's failure is logged
   * here once (see `logServedFailure`). Either is answered with an error
   * whose details only this app's own `debug` option widens. A reply larger
   * than the transport carries becomes a `REPLY_TOO_LARGE` error, logged here.
   */
  private listener(info: MessageTypeInfo, local: Execute): RequestListener {
    const subject = messageSubject(
      this.options.namespace,
      info.kind,
      info.name,
    );
    return async (request, wantsReply) => {
      const context = {
        messageType: info.name,
        messageId: messageIdOf(request),
        app: this.options.app,
        debug: this.options.debug,
      };
      let decoded: DecodedRequest;
      let message: object;
      try {
        decoded = decodeRequest(request, info.name);
        if (decoded.revision > info.revision) {
          throw new UnsupportedRevisionError(
            info.name,
            decoded.revision,
            info.revision,
          );
        }
        message = fromPayload(info.target, decoded.payload);
      } catch (error) {
        this.malformed.record(subject, context.messageId, error);
        return encodeError(error, context);
      }
      attachSendOptions(message, {
        id: decoded.id,
        metadata: decoded.metadata,
        timestamp: decoded.timestamp,
        firstSend: decoded.firstSend,
        senderApp: decoded.senderApp,
      });
      let reply: WireMessage;
      try {
        // The caller's span, from the headers, is the parent of the handling:
        // never whatever context this callback happened to run in. A remote
        // parent marks the handling as served already; without one, the
        // root says so.
        const parent = traceContextOf(decoded.metadata) ?? SERVED_ROOT;
        reply = encodeResult(
          await traceContext.with(parent, local, undefined, message),
        );
      } catch (error) {
        logServedFailure(this.logger, error, request, info.name, wantsReply);
        return encodeError(error, context);
      }
      const fitting = fittingReply(
        reply,
        this.transport.maxPayloadBytes(),
        info.name,
        decoded.id,
      );
      if (fitting.tooLarge) this.logger.error(fitting.tooLarge.message);
      return fitting.reply;
    };
  }
}

function routedType(info: MessageTypeInfo): RoutedType {
  return { kind: info.kind === 'query' ? 'query' : 'command', name: info.name };
}
