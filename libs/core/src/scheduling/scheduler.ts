import { Inject, Injectable, Optional } from '@nestjs/common';
import { UnitOfWork } from '../handling/index.js';
import type { SqlClient } from '../store/index.js';
import {
  checkId,
  checkStorableText,
  createEnvelope,
  MESSAGE_OPTIONS,
  MessageTypeRegistry,
  newMessageId,
  toPayload,
  validateMessage,
  type MessageClass,
  type MessageOptions,
} from '../messages/index.js';
import { durationMs, type Duration } from './duration.js';
import {
  nextOccurrence,
  storedPeriodic,
  type PeriodicSpec,
} from './periodic.js';
import type { ScheduleKind, ScheduledMessage } from './scheduled-message.js';
import { ScheduleSignal } from './schedule-signal.js';
import { ScheduleStore, type NewSchedule } from './schedule-store.js';
import { ScheduleTypeRegistry } from './schedule-type.decorator.js';
import {
  InvalidScheduleError,
  UnregisteredScheduleTypeError,
} from './scheduling.errors.js';

/** When a message is due: at a moment, or after a delay from now ('15m', or ms). */
export type ScheduleTime = { readonly at: Date } | { readonly delay: Duration };

export interface ScheduleOptions {
  /**
   * The schedule's id: scheduling again with the same id replaces the schedule
   * (a new due time, a new message), and `cancel(id)` removes it. Default: a new UUID v7.
   */
  readonly id?: string;
  /** Extra metadata for the delivered message (correlation is inherited as for any message). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Delivers messages later, durably: a command (through the command bus, so
 * locally or to whichever app handles it) or a schedule payload (to a
 * `@HandleSchedule` method). Inside a command handler, a schedule is written
 * in the command's transaction: if the command fails, nothing is scheduled.
 */
@Injectable()
export class Scheduler {
  constructor(
    @Inject(ScheduleStore) private readonly store: ScheduleStore,
    private readonly unitOfWork: UnitOfWork,
    @Inject(ScheduleSignal) private readonly signal: ScheduleSignal,
    @Optional()
    @Inject(MESSAGE_OPTIONS)
    private readonly messages: MessageOptions = {},
  ) {}

  /** Schedules `message` once; returns the schedule id. */
  async schedule(
    message: object,
    when: ScheduleTime,
    options: ScheduleOptions = {},
  ): Promise<string> {
    const schedule = await this.newSchedule(message, this.dueOf(when), options);
    await this.write((tx) => this.store.upsert(tx, schedule));
    return schedule.id;
  }

  /**
   * Delivers `message` on every occurrence of `spec` (`{ every: '5m' }` or
   * `{ cron: '0 3 * * *', timeZone: 'Europe/Amsterdam' }`) until cancelled.
   * Calling it again with the same id and the same spec and message keeps the
   * occurrence already armed (so it is safe at every start); a change replaces it.
   */
  async schedulePeriodic(
    message: object,
    spec: PeriodicSpec,
    options: ScheduleOptions = {},
  ): Promise<string> {
    const periodic = storedPeriodic(spec);
    const now = await this.store.nowMs();
    const due = { atMs: nextOccurrence(periodic, now, now) };
    const schedule = {
      ...(await this.newSchedule(message, due, options)),
      periodic,
    };
    await this.write((tx) => this.store.ensure(tx, schedule));
    return schedule.id;
  }

  /**
   * Removes a schedule (also a dead one), with the running command's
   * transaction if there is one. A delivery already under way is not stopped.
   */
  async cancel(id: string): Promise<void> {
    checkId(id, 'schedule id');
    await this.unitOfWork.enlist((tx) => this.store.cancel(tx, id));
  }

  /** The schedule with this id as stored now, or undefined (delivered, cancelled, never made). */
  async get(id: string): Promise<ScheduledMessage | undefined> {
    checkId(id, 'schedule id');
    return this.store.get(id);
  }

  /** Writes a schedule; `write` resolves to its due time as stored (undefined: unchanged). */
  private async write(
    write: (tx: SqlClient) => Promise<number | undefined>,
  ): Promise<void> {
    const direct = !this.unitOfWork.active;
    let dueMs: number | undefined;
    await this.unitOfWork.enlist(async (tx) => {
      dueMs = await write(tx);
    });
    // Committed already: wake this process's poller now. In a command, the
    // NOTIFY sent with the write wakes every poller when the command commits.
    if (direct && dueMs !== undefined) this.signal.notify(dueMs);
  }

  /** A moment, or a delay the store adds to its own "now" (the database's clock, unless set by hand). */
  private dueOf(when: ScheduleTime): NewSchedule['due'] {
    if ('at' in when) {
      const at = when.at instanceof Date ? when.at.getTime() : NaN;
      if (Number.isNaN(at)) {
        throw new InvalidScheduleError(
          `The due time ${String(when.at)} is not a valid Date`,
        );
      }
      return { atMs: at };
    }
    return { delayMs: durationMs(when.delay, 'delay') };
  }

  private async newSchedule(
    message: object,
    due: NewSchedule['due'],
    options: ScheduleOptions,
  ): Promise<NewSchedule> {
    const { kind, type, revision } = scheduledTypeOf(message);
    if (options.id !== undefined) checkId(options.id, 'schedule id');
    // A command that can never pass validation should fail here, not when due.
    if (kind === 'command') {
      await validateMessage(message, type, this.messages.unknownFields);
    }
    const deliveryId = newMessageId();
    // The envelope is only made for its metadata: correlation and causation
    // from the message being handled now, as any message sent here would get.
    const { metadata } = createEnvelope(message, 'command', {
      id: deliveryId,
      metadata: options.metadata,
    });
    const payload = toPayload(message);
    checkStorableText(payload, `payload of ${type}`);
    return {
      id: options.id ?? newMessageId(),
      kind,
      type,
      revision,
      payload,
      metadata,
      due,
      deliveryId,
    };
  }
}

/** How a message instance is scheduled: a `@CommandType` command, or a `@ScheduleType` payload. */
function scheduledTypeOf(message: object): {
  kind: ScheduleKind;
  type: string;
  revision: number;
} {
  const target = message.constructor as MessageClass;
  const payload = ScheduleTypeRegistry.forClass(target);
  if (payload) {
    return { kind: 'schedule', type: payload.name, revision: payload.revision };
  }
  const info = MessageTypeRegistry.forClass(target);
  if (info?.kind === 'command') {
    return { kind: 'command', type: info.name, revision: info.revision };
  }
  throw new UnregisteredScheduleTypeError(target.name);
}
