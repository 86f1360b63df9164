import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CommandOutbox, EnabledModules } from '../handling/index.js';
import {
  MessageContext,
  MessageTypeRegistry,
  UnregisteredMessageError,
} from '../messages/index.js';
import {
  EventStore,
  PostgresEventStore,
  StoreSchema,
  type StoredEvent,
} from '../store/index.js';
import type { ConsumerContext } from '../tracking/index.js';
import {
  processManagerMetadataOf,
  stepsOf,
  type AssociationKey,
  type StepMetadata,
} from './process-manager.decorators.js';
import { ProcessManagerBase, runStep } from './process-manager.base.js';
import { lockInstance, saveStep } from './process-instances.js';
import { linkRunner, type StepRunner } from './process-runner-link.js';
import {
  ProcessKeyMissingError,
  ProcessManagerDefinitionError,
} from './processes.errors.js';

type Method = (event: object, envelope: StoredEvent<object>) => unknown;

/** A `@ProcessManager` as found at bootstrap. */
interface ProcessDefinition {
  readonly name: string;
  readonly manager: ProcessManagerBase<object>;
  /** Its step per stored event type name. */
  readonly steps: ReadonlyMap<string, StepMetadata>;
}

/**
 * Runs the steps of this app's process managers. Each process manager is a
 * consumer (`process:<name>`) whose batch transaction this runner joins: the
 * instance's row is locked, the handler runs, and the new state, the step's
 * history and the commands it sent (as outbox rows) are written in that
 * transaction, which also moves the consumer's position. So a step commits
 * whole or not at all, and a re-run (a retry, a crash before the commit)
 * sends the same derived command ids.
 */
@Injectable()
export class ProcessRunner implements OnModuleInit, StepRunner {
  private readonly definitions = new Map<object, ProcessDefinition>();
  private readonly schema: StoreSchema;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly outbox: CommandOutbox,
    store: EventStore,
    private readonly enabledModules: EnabledModules,
  ) {
    this.schema =
      store instanceof PostgresEventStore ? store.schema : new StoreSchema();
  }

  /** Before the consumers start (they start at application bootstrap). */
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
      this.definitions.set(manager, { name: metadata.name, manager, steps });
      linkRunner(manager, this);
    }
  }

  async step(
    manager: object,
    event: object,
    envelope: StoredEvent<object>,
    context: ConsumerContext,
  ): Promise<void> {
    const definition = this.definitions.get(manager);
    const step = definition?.steps.get(envelope.type);
    if (!definition || !step) return;
    const { name } = definition;
    const key = keyOf(step.key, event);
    if (key === undefined) {
      throw new ProcessKeyMissingError(
        name,
        envelope.type,
        envelope.id,
        describeKey(step.key),
      );
    }
    const sql = await context.sql();
    const locked = await lockInstance(sql, this.schema, name, key, envelope.id);
    // No instance and not a start, an ended instance, or an event this
    // instance handled before (a replay): nothing to do.
    if (locked === undefined ? !step.starts : locked.status === 'ended') return;
    if (locked?.seen) return;
    const running = {
      process: name,
      key,
      state: locked?.state ?? definition.manager.initialState(),
      ended: false,
      commands: [] as object[],
    };
    const method = String(step.method);
    // The handler name in derived ids names the instance: two instances
    // handling one event send distinct ids, a re-run the same ones.
    const handler = `process:${name}:${key}:${method}`;
    const sent = await MessageContext.run(
      envelope,
      async () => {
        const fn = (manager as Record<string | symbol, Method>)[step.method];
        await runStep(running, () => fn.call(manager, event, envelope));
        const ids: string[] = [];
        for (const command of running.commands)
          ids.push(await this.outbox.addIn(sql, command));
        return ids;
      },
      handler,
    );
    await saveStep(sql, this.schema, {
      name,
      key,
      state: running.state,
      ended: running.ended,
      eventId: envelope.id,
      eventType: envelope.type,
      position: envelope.position,
      handler,
      commands: sent,
    });
  }
}

function keyOf(key: AssociationKey<object>, event: object): string | undefined {
  const value: unknown =
    typeof key === 'function'
      ? key(event)
      : (event as Record<string, unknown>)[key];
  if (typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
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
