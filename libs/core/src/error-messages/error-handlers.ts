import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { EnabledModules } from '../handling/index.js';
import {
  attachEnvelope,
  MessageContext,
  MessageTypeRegistry,
  type Envelope,
  type MessageClass,
} from '../messages/index.js';
import { ScheduleTypeRegistry } from '../scheduling/index.js';
import {
  decodeRequest,
  errorSubject,
  Transport,
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
  type WireMessage,
} from '../transport/index.js';
import {
  HANDLE_ALL_METADATA,
  HANDLE_ERROR_METADATA,
  type ErrorSourceType,
} from './handle-error.decorator.js';
import {
  ErrorHandlerDefinitionError,
  UnknownErrorSourceError,
} from './error-messages.errors.js';
import {
  ERROR_MESSAGE_TYPE,
  handlingFailedFrom,
  type HandlingFailed,
} from './handling-failed.js';

type Method = (...args: unknown[]) => unknown;

/** One `@HandleError` method. */
interface ErrorHandler {
  /** `Class.method`, in logs and in the ids of what it sends. */
  readonly owner: string;
  invoke(failed: HandlingFailed): unknown;
}

/**
 * Finds the `@HandleError` methods at bootstrap and subscribes this app to
 * the error messages they handle, in one queue group per app
 * (`chronicle.<ns>.error-handlers.<app>`), so one instance of each
 * interested app gets each error message. A handler that throws is logged
 * here, never reported as an error message itself: no loops.
 */
@Injectable()
export class ErrorHandlers implements OnApplicationBootstrap {
  private readonly logger = new Logger('Chronicle errors');
  private readonly byType = new Map<string, ErrorHandler[]>();
  private readonly forAll: ErrorHandler[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly transport: Transport,
    @Inject(TRANSPORT_OPTIONS)
    private readonly options: ResolvedTransportOptions,
    private readonly enabledModules: EnabledModules,
  ) {
    enabledModules.countAsWork('error handlers', (type) => {
      const prototype = type.prototype as object | undefined;
      if (!prototype) return false;
      return this.scanner
        .getAllMethodNames(prototype)
        .some((name) =>
          Reflect.hasMetadata(HANDLE_ERROR_METADATA, prototype, name),
        );
    });
  }

  /** The type names this app handles the errors of; `*` for all. */
  get handledTypes(): string[] {
    return this.forAll.length > 0 ? ['*'] : [...this.byType.keys()];
  }

  async onApplicationBootstrap(): Promise<void> {
    this.explore();
    const { namespace, app } = this.options;
    const queue = `chronicle.${namespace}.error-handlers.${app}`;
    const listener = (message: WireMessage) => this.handle(message);
    // One subscription covers all: two of one group on overlapping subjects would not.
    const subjects =
      this.forAll.length > 0
        ? [errorSubject(namespace)]
        : [...this.byType.keys()].map((type) => errorSubject(namespace, type));
    for (const subject of subjects) {
      await this.transport.subscribe(subject, queue, listener);
    }
  }

  private explore(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, Method> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype || prototype === Object.prototype) continue;
      const className = instance.constructor.name;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const types = Reflect.getMetadata(
          HANDLE_ERROR_METADATA,
          prototype,
          name,
        ) as ErrorSourceType[] | undefined;
        if (!types) continue;
        // A module this process does not enable handles its errors elsewhere.
        if (!this.enabledModules.isEnabled(wrapper)) continue;
        const owner = `${className}.${name}`;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new ErrorHandlerDefinitionError(
            `${owner}: error handlers must be singleton providers, not request-scoped.`,
          );
        }
        const handler: ErrorHandler = {
          owner,
          invoke: (failed) => instance[name](failed),
        };
        if (Reflect.getMetadata(HANDLE_ALL_METADATA, prototype, name)) {
          this.forAll.push(handler);
        }
        for (const type of new Set(types.map((t) => typeName(t, owner)))) {
          this.byType.set(type, [...(this.byType.get(type) ?? []), handler]);
        }
      }
    }
  }

  /** One error message off the transport, to every handler of its type here. */
  private async handle(message: WireMessage): Promise<void> {
    let envelope: Envelope<HandlingFailed>;
    try {
      const decoded = decodeRequest(message, ERROR_MESSAGE_TYPE);
      const failed = handlingFailedFrom(
        decoded.payload as Record<string, unknown>,
      );
      if (typeof failed === 'string') {
        throw new Error(`its payload is not an error message: ${failed}`);
      }
      envelope = {
        id: decoded.id,
        type: decoded.type,
        revision: decoded.revision,
        payload: failed,
        metadata: decoded.metadata as Envelope['metadata'],
        timestamp: decoded.timestamp,
      };
      // `envelopeOf(failed)` in a handler: its id, correlation and causation.
      attachEnvelope(failed, envelope);
    } catch (error) {
      this.logger.warn(
        `Ignored an unreadable error message: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const failed = envelope.payload;
    const handlers = new Set([
      ...(this.byType.get(failed.messageType) ?? []),
      ...this.forAll,
    ]);
    for (const handler of handlers) {
      try {
        // What it sends is caused by the error message, with ids derived from it.
        await MessageContext.run(
          envelope,
          () => handler.invoke(failed),
          `error:${handler.owner}`,
        );
      } catch (error) {
        this.logger.error(
          `Error handler ${handler.owner} failed on the error message ${failed.id} ` +
            `(${failed.messageType} ${failed.messageId}): ${error instanceof Error ? error.message : String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
    }
  }
}

/** The type name `@HandleError` means by a class or a name. */
function typeName(type: ErrorSourceType, owner: string): string {
  if (typeof type === 'string') return type;
  const info =
    MessageTypeRegistry.forClass(type) ??
    ScheduleTypeRegistry.forClass(type as MessageClass);
  if (!info) throw new UnknownErrorSourceError(owner, type.name);
  return info.name;
}
