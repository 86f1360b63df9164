import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { HandlingLog } from '../message-log/index.js';
import {
  EnabledModules,
  FailureReporter,
  MessageGateway,
  MessageRouter,
  UnitOfWork,
} from '../handling/index.js';
import {
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import {
  MESSAGE_OPTIONS,
  MessageTypeRegistry,
  newMessageId,
  type MessageClass,
  type MessageOptions,
} from '../messages/index.js';
import { AccessCheck } from '../security/index.js';
import { Telemetry } from '../telemetry/index.js';
import { Clock } from './clock.js';
import { nextOccurrence, storedPeriodic } from './periodic.js';
import {
  HANDLE_SCHEDULE_METADATA,
  PERIODIC_METADATA,
  type PeriodicOptions,
} from './schedule-handler.decorators.js';
import { ScheduleDelivery } from './schedule-delivery.js';
import { ScheduleHandlers } from './schedule-handlers.js';
import { SchedulePoller } from './schedule-poller.js';
import { ScheduleSignal } from './schedule-signal.js';
import { ScheduleStore } from './schedule-store.js';
import { ScheduleTypeRegistry } from './schedule-type.decorator.js';
import { UnregisteredScheduleTypeError } from './scheduling.errors.js';
import {
  resolveSchedulingOptions,
  SCHEDULING_OPTIONS,
  type SchedulingOptions,
} from './scheduling.options.js';

type Method = (...args: unknown[]) => unknown;

/**
 * Starts scheduling with the application: finds the `@HandleSchedule` and
 * `@Periodic` methods (decorators only leave metadata; this reads it once),
 * arms each `@Periodic` schedule (once across all instances), then starts the
 * poller. `app.close()` stops it before the database closes.
 */
@Injectable()
export class SchedulingRunner
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger('Scheduler');
  private poller: SchedulePoller | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(ScheduleStore) private readonly store: ScheduleStore,
    @Inject(ScheduleSignal) private readonly signal: ScheduleSignal,
    private readonly clock: Clock,
    private readonly gateway: MessageGateway,
    private readonly unitOfWork: UnitOfWork,
    private readonly router: MessageRouter,
    @Inject(SCHEDULING_OPTIONS) private readonly options: SchedulingOptions,
    @Inject(TRANSPORT_OPTIONS)
    private readonly transport: ResolvedTransportOptions,
    private readonly enabledModules: EnabledModules,
    @Optional()
    @Inject(MESSAGE_OPTIONS)
    private readonly messages: MessageOptions = {},
    @Optional() private readonly telemetry: Telemetry = Telemetry.off,
    @Optional() private readonly log?: HandlingLog,
    @Optional() private readonly failures?: FailureReporter,
    @Optional() private readonly access?: AccessCheck,
  ) {
    enabledModules.countAsWork('schedule handlers', (type) => {
      const prototype = type.prototype as object | undefined;
      if (!prototype) return false;
      return this.scanner
        .getAllMethodNames(prototype)
        .some(
          (name) =>
            Reflect.hasMetadata(HANDLE_SCHEDULE_METADATA, prototype, name) ||
            Reflect.hasMetadata(PERIODIC_METADATA, prototype, name),
        );
    });
  }

  /** The poller, once started: lets tests see whether it is listening. */
  get running(): SchedulePoller | undefined {
    return this.poller;
  }

  async onApplicationBootstrap(): Promise<void> {
    const options = resolveSchedulingOptions(this.options);
    const handlers = this.explore();
    await this.armPeriodic(handlers);
    if (!options.enabled) return;
    const delivery = new ScheduleDelivery(
      this.store,
      handlers,
      this.gateway,
      this.unitOfWork,
      this.clock,
      options,
      this.logger,
      this.messages.unknownFields,
      this.telemetry,
      this.log,
      this.failures,
      this.access,
    );
    this.poller = new SchedulePoller(
      this.store,
      delivery,
      this.signal,
      this.clock,
      options,
      this.logger,
      {
        types: [...handlers.keys(), ...knownCommandTypes()],
        // Bootstrapped before this runner (HandlingModule is imported here).
        sends: this.router.servedCommandTypes(),
      },
    );
    await this.poller.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.poller?.stop();
    this.poller = undefined;
  }

  private explore(): ScheduleHandlers {
    const handlers = new ScheduleHandlers();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, Method> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      // A module this process does not enable handles its schedules elsewhere.
      if (!this.enabledModules.isEnabled(wrapper)) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      if (!prototype || prototype === Object.prototype) continue;
      const className = instance.constructor.name;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const payload = Reflect.getMetadata(
          HANDLE_SCHEDULE_METADATA,
          prototype,
          name,
        ) as MessageClass | undefined;
        const periodic = Reflect.getMetadata(
          PERIODIC_METADATA,
          prototype,
          name,
        ) as PeriodicOptions | undefined;
        if (!payload && !periodic) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new Error(
            `${className}.${name}: schedule handlers must be singleton providers, not request-scoped`,
          );
        }
        const owner = `${className}.${name}`;
        const invoke = (...args: unknown[]) => instance[name](...args);
        if (payload) {
          const type = ScheduleTypeRegistry.forClass(payload);
          if (!type) throw new UnregisteredScheduleTypeError(payload.name);
          handlers.add({
            key: type.name,
            owner,
            holder: instance.constructor,
            payload,
            invoke: (message, context) => invoke(message, context),
          });
        }
        if (periodic) {
          // Apps sharing a store each own their periodic methods, unless an
          // id is given: then every app declaring it shares the one schedule.
          const { id = periodicId(this.transport.app, owner), ...spec } =
            periodic;
          handlers.add({
            key: id,
            owner,
            holder: instance.constructor,
            invoke: (_, context) => invoke(context),
          });
          handlers.periodic.push({ id, spec });
        }
      }
    }
    return handlers;
  }

  /** Writes each `@Periodic` row unless it is there with the same definition. */
  private async armPeriodic(handlers: ScheduleHandlers): Promise<void> {
    for (const { id, spec } of handlers.periodic) {
      const periodic = storedPeriodic(spec);
      const now = await this.store.nowMs();
      const deliveryId = newMessageId();
      await this.store.ensure(this.store.client, {
        id,
        kind: 'method',
        type: id,
        revision: 1,
        payload: null,
        metadata: { correlationId: deliveryId },
        due: { atMs: nextOccurrence(periodic, now, now) },
        periodic,
        deliveryId,
      });
    }
  }
}

/** A `@Periodic` method's default schedule id: `app:Class.method`, its app's own. */
export function periodicId(app: string, owner: string): string {
  return `${app}:${owner}`;
}

/** The command types whose classes this process has loaded: those it can deliver when due. */
function knownCommandTypes(): string[] {
  return MessageTypeRegistry.all()
    .filter((info) => info.kind === 'command')
    .map((info) => info.name);
}
