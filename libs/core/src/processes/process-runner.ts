import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  ERROR_MESSAGE_TYPE,
  handlingFailedFrom,
} from '../error-messages/index.js';
import {
  CommandOutbox,
  EnabledModules,
  UnitOfWork,
} from '../handling/index.js';
import {
  deriveMessageId,
  fromPayload,
  MessageContext,
  MessageTypeRegistry,
  toPayload,
  UnregisteredMessageError,
  type Envelope,
} from '../messages/index.js';
import {
  ScheduleStore,
  sendScheduleId,
  type Duration,
  type ScheduleContext,
} from '../scheduling/index.js';
import {
  EventStore,
  PostgresEventStore,
  StoreSchema,
  type SqlClient,
  type StoredEvent,
} from '../store/index.js';
import type { ConsumerContext } from '../tracking/index.js';
import {
  associationKeyOf,
  deadlineScheduleType,
  failureScheduleType,
  failuresOf,
  processManagerMetadataOf,
  stepsOf,
  type AssociationKey,
  type ProcessCommandFailed,
  type ProcessDeadline,
  type StepMetadata,
} from './process-manager.decorators.js';
import {
  ProcessManagerBase,
  runStep,
  type ProcessStep,
} from './process-manager.base.js';
import {
  lockInstance,
  saveStep,
  type LockedInstance,
  type OpenDeadline,
  type OpenDeadlines,
} from './process-instances.js';
import { linkRunner, type StepRunner } from './process-runner-link.js';
import {
  ProcessDeadlineError,
  ProcessKeyMissingError,
  ProcessManagerDefinitionError,
} from './processes.errors.js';

type Method = (event: object, envelope: Envelope<object>) => unknown;

/** A `@ProcessManager` as found at bootstrap. */
interface ProcessDefinition {
  readonly name: string;
  readonly manager: ProcessManagerBase<object>;
  /** Its step per stored event type name. */
  readonly steps: ReadonlyMap<string, StepMetadata>;
  /** Its `@OnCommandFailed` method per command type name. */
  readonly failures: ReadonlyMap<string, string | symbol>;
}

/** What one step runs on: the instance's row as locked, and where the message is. */
interface StepInput {
  readonly sql: SqlClient;
  readonly definition: ProcessDefinition;
  readonly method: string | symbol;
  readonly key: string;
  readonly message: object;
  readonly envelope: Envelope<object>;
  readonly locked: LockedInstance | undefined;
  /** The event's log position; undefined for a deadline. */
  readonly position: bigint | undefined;
}

/**
 * Runs the steps of this app's process managers. Each process manager is a
 * consumer (`process:<name>`) whose batch transaction this runner joins: the
 * instance's row is locked, the handler runs, and the new state, the step's
 * history, the commands it sent (as outbox rows) and its deadlines (as
 * schedule rows) are written in that transaction, which also moves the
 * consumer's position. A deadline's step runs the same way in the
 * transaction that completes its schedule. So a step commits whole or not at
 * all, and a re-run (a retry, a crash before the commit) sends the same
 * derived command ids.
 */
@Injectable()
export class ProcessRunner implements OnModuleInit, StepRunner {
  private readonly definitions = new Map<object, ProcessDefinition>();
  private readonly schema: StoreSchema;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly outbox: CommandOutbox,
    private readonly schedules: ScheduleStore,
    private readonly unitOfWork: UnitOfWork,
    store: EventStore,
    private readonly enabledModules: EnabledModules,
  ) {
    this.schema =
      store instanceof PostgresEventStore ? store.schema : new StoreSchema();
  }

  /** Before the consumers and the scheduler start (they start at application bootstrap). */
  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.instance?.constructor ?? wrapper.metatype;
      if (typeof type !== 'function') continue;
      const metadata = processManagerMetadataOf(type);
      if (!metadata || !this.enabledModules.isEnabled(wrapper)) continue;
      const manager: unknown = wrapper.instance;
      if (!(manager instanceof ProcessManagerBase)) {
        throw new ProcessManagerDefinitionError(
          `Process manager "${metadata.name}" (${type.name}) does not extend ProcessManagerBase<State>: extend it, so its methods can reach this.state, this.send and this.end.`,
        );
      }
      const steps = new Map<string, StepMetadata>();
      for (const step of stepsOf(type)) {
        const info = MessageTypeRegistry.forClass(step.event);
        if (info?.kind !== 'event')
          throw new UnregisteredMessageError(step.event.name, 'Event');
        checkKey(metadata.name, type.name, step);
        steps.set(info.name, step);
      }
      const failures = new Map<string, string | symbol>();
      for (const { method, commands } of failuresOf(type)) {
        for (const command of commands) {
          const info = MessageTypeRegistry.forClass(command);
          if (info?.kind !== 'command')
            throw new UnregisteredMessageError(command.name, 'Command');
          failures.set(info.name, method);
        }
      }
      this.definitions.set(manager, {
        name: metadata.name,
        manager,
        steps,
        failures,
      });
      linkRunner(manager, this);
    }
  }

  /** This app's process managers: their names and history retention. */
  processes(): { name: string; historyRetention?: Duration | false }[] {
    return [...this.definitions.values()].map((d) => ({
      name: d.name,
      historyRetention: processManagerMetadataOf(d.manager.constructor)?.options
        .historyRetention,
    }));
  }

  /** An event of the log, in the consumer's batch transaction. */
  async step(
    manager: object,
    event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const definition = this.definitions.get(manager);
    const step = definition?.steps.get(envelope.type);
    if (!definition || !step) return;
    const key = associationKeyOf(step.key, event);
    if (key === undefined) {
      throw new ProcessKeyMissingError(
        definition.name,
        envelope.type,
        envelope.id,
        describeKey(step.key),
      );
    }
    const sql = await context.sql();
    const locked = await lockInstance(
      sql,
      this.schema,
      definition.name,
      key,
      envelope.id,
    );
    // No instance and not a start, an ended instance, or an event this
    // instance handled before (a replay): nothing to do.
    if (locked === undefined ? !step.starts : locked.status === 'ended') return;
    if (locked?.seen) return;
    await this.run({
      sql,
      definition,
      method: step.method,
      key,
      message: event,
      envelope,
      locked,
      position: envelope.position,
    });
  }

  /**
   * A deadline, delivered by the scheduler: its step is enlisted in the
   * delivery's unit of work, whose transaction also completes the schedule
   * (checked against this instance's claim), so it runs once. A deadline
   * cancelled, replaced or outlived by its instance finds its token gone
   * and does nothing.
   */
  async deadline(
    manager: object,
    deadline: ProcessDeadline,
    _schedule: ScheduleContext,
  ): Promise<void> {
    const definition = this.definitions.get(manager);
    const step = definition?.steps.get(deadline.type);
    const delivery = MessageContext.current();
    if (!definition || !step || !delivery) return;
    const message = fromPayload(step.event, deadline.message);
    const envelope: Envelope<object> = {
      ...delivery,
      type: deadline.type,
      payload: message,
    };
    await this.unitOfWork.enlist(async (sql) => {
      const locked = await lockInstance(
        sql,
        this.schema,
        definition.name,
        deadline.key,
        envelope.id,
      );
      if (!locked || locked.status === 'ended' || locked.seen) return;
      if (locked.deadlines[deadline.deadline]?.token !== deadline.token) return;
      const { [deadline.deadline]: _fired, ...open } = locked.deadlines;
      await this.run({
        sql,
        definition,
        method: step.method,
        key: deadline.key,
        message,
        envelope,
        locked: { ...locked, deadlines: open },
        position: undefined,
      });
    });
  }

  /**
   * A dead command handed back by the scheduler: the `@OnCommandFailed`
   * method runs as a step of the instance that sent it, in the delivery's
   * unit of work, whose transaction also completes the schedule; the
   * delivery's id in the instance's history makes a second delivery do
   * nothing.
   */
  async commandFailed(
    manager: object,
    failure: ProcessCommandFailed,
    _schedule: ScheduleContext,
  ): Promise<void> {
    const definition = this.definitions.get(manager);
    const parsed = handlingFailedFrom(failure.failed);
    const delivery = MessageContext.current();
    if (!definition || !delivery || typeof parsed === 'string') return;
    const method = definition.failures.get(parsed.messageType);
    if (!method) return;
    const envelope: Envelope<object> = {
      ...delivery,
      type: ERROR_MESSAGE_TYPE,
      payload: parsed,
    };
    await this.unitOfWork.enlist(async (sql) => {
      const locked = await lockInstance(
        sql,
        this.schema,
        definition.name,
        failure.key,
        envelope.id,
      );
      if (!locked || locked.status === 'ended' || locked.seen) return;
      await this.run({
        sql,
        definition,
        method,
        key: failure.key,
        message: parsed,
        envelope,
        locked,
        position: undefined,
      });
    });
  }

  private async run(input: StepInput): Promise<void> {
    const { sql, definition, method: name, key, envelope, locked } = input;
    const running: ProcessStep<object> = {
      process: definition.name,
      key,
      state: locked?.state ?? definition.manager.initialState(),
      ended: false,
      commands: [],
      deadlines: new Map(),
    };
    const method = String(name);
    // The handler name in derived ids names the instance: two instances
    // handling one event send distinct ids, a re-run the same ones.
    const handler = `process:${definition.name}:${key}:${method}`;
    const { sent, deadlines } = await MessageContext.run(
      envelope,
      async () => {
        const manager = definition.manager as unknown as Record<
          string | symbol,
          Method
        >;
        await runStep(running, () =>
          manager[name].call(manager, input.message, envelope),
        );
        const ids: string[] = [];
        for (const command of running.commands) {
          const id = await this.outbox.addIn(sql, command);
          ids.push(id);
          // A command with an @OnCommandFailed method hands its death back
          // to this instance, durably, whichever app delivers it.
          const type = MessageTypeRegistry.forInstance(command)?.name;
          if (type !== undefined && definition.failures.has(type)) {
            await this.schedules.handBackOnDeath(sql, sendScheduleId(id), {
              type: failureScheduleType(definition.name),
              payload: { key },
            });
          }
        }
        return {
          sent: ids,
          deadlines: await this.writeDeadlines(
            input,
            running,
            locked?.deadlines ?? {},
          ),
        };
      },
      handler,
    );
    await saveStep(sql, this.schema, {
      name: definition.name,
      key,
      state: running.state,
      ended: running.ended,
      deadlines,
      eventId: envelope.id,
      eventType: envelope.type,
      position: input.position,
      handler,
      commands: sent,
    });
  }

  /** Writes the step's deadlines as schedule rows (or removes them); returns what stays open. */
  private async writeDeadlines(
    input: StepInput,
    running: ProcessStep<object>,
    open: OpenDeadlines,
  ): Promise<OpenDeadlines> {
    const { sql, definition, key, envelope } = input;
    const next: Record<string, OpenDeadline> = { ...open };
    const cancel = async (name: string) => {
      const existing = next[name];
      if (!existing) return;
      await this.schedules.cancel(sql, existing.scheduleId);
      delete next[name];
    };
    if (running.ended) {
      for (const name of Object.keys(next)) await cancel(name);
      return next;
    }
    for (const [name, request] of running.deadlines) {
      if (request === null) {
        await cancel(name);
        continue;
      }
      const info = MessageTypeRegistry.forInstance(request.message);
      if (info?.kind !== 'event' || !definition.steps.has(info.name)) {
        throw new ProcessDeadlineError(
          definition.name,
          name,
          request.message.constructor.name,
        );
      }
      const scheduleId = `process:${definition.name}:${key}:${name}`;
      const dueMs = await this.schedules.upsert(sql, {
        id: scheduleId,
        kind: 'schedule',
        type: deadlineScheduleType(definition.name),
        revision: 1,
        payload: {
          key,
          deadline: name,
          token: envelope.id,
          type: info.name,
          message: toPayload(request.message),
        },
        metadata: {
          correlationId: envelope.metadata.correlationId,
          causationId: envelope.id,
          // A deadline runs as the user of the step that set it (security/).
          ...(envelope.metadata.user === undefined
            ? undefined
            : { user: envelope.metadata.user }),
        },
        due: { delayMs: request.afterMs },
        // Derived: a re-run of the step arms the same delivery.
        deliveryId: deriveMessageId(
          envelope.id,
          `process:${definition.name}:${key}`,
          `deadline:${name}`,
          0,
        ),
      });
      next[name] = {
        scheduleId,
        dueAt: new Date(dueMs).toISOString(),
        token: envelope.id,
      };
    }
    return next;
  }
}

function describeKey(key: AssociationKey<object>): string {
  return typeof key === 'function' ? 'its key function' : `the field "${key}"`;
}

function checkKey(process: string, className: string, step: StepMetadata) {
  if (typeof step.key === 'function' || typeof step.key === 'string') return;
  throw new ProcessManagerDefinitionError(
    `Process manager "${process}" (${className}): ${String(step.method)} names no key for ${step.event.name}: ` +
      "pass { key: 'someId' } or { key: (event) => event.someId }.",
  );
}
