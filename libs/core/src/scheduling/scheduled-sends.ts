import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  CommandOutbox,
  NotACommandError,
  UnitOfWork,
  type SendOptions,
} from '../handling/index.js';
import {
  checkStorableText,
  createEnvelope,
  MESSAGE_OPTIONS,
  MessageTypeRegistry,
  payloadOf,
  validateMessage,
  type Envelope,
  type MessageOptions,
} from '../messages/index.js';
import type { SqlClient } from '../store/index.js';
import { ScheduleSignal } from './schedule-signal.js';
import { ScheduleStore, type NewSchedule } from './schedule-store.js';

/** The schedule id of a command sent with sendAndForget: one row per command id. */
export function sendScheduleId(commandId: string): string {
  return `chronicle.send:${commandId}`;
}

/**
 * `sendAndForget`, durable: the command becomes a `schedules` row of kind
 * `send`, due at once, written with the running unit of work (so a handler
 * that fails sends nothing) or in a transaction of its own. The pollers of the
 * instances that handle its type claim it (woken by this process's signal or
 * the row's NOTIFY) and deliver it through the command bus under the
 * command's own id, with the schedule retry policy; until one runs, it waits.
 */
@Injectable()
export class ScheduledSends extends CommandOutbox {
  constructor(
    @Inject(ScheduleStore) private readonly store: ScheduleStore,
    private readonly unitOfWork: UnitOfWork,
    @Inject(ScheduleSignal) private readonly signal: ScheduleSignal,
    @Optional()
    @Inject(MESSAGE_OPTIONS)
    private readonly messages: MessageOptions = {},
  ) {
    super();
  }

  async add(
    command: object,
    options: Omit<SendOptions, 'timeoutMs'>,
  ): Promise<string> {
    const { envelope, row } = await this.prepare(command, options);
    let dueMs: number | undefined;
    await this.unitOfWork.enlist(async (tx) => {
      dueMs = await this.store.send(tx, row);
    });
    // Wake this process's poller once it is committed; the NOTIFY in the
    // write wakes the other processes'.
    this.unitOfWork.afterCommit(() => {
      if (dueMs !== undefined) this.signal.notify(dueMs);
    });
    return envelope.id;
  }

  /**
   * `add` in a transaction the caller holds (a consumer's batch, a process
   * manager's step): the command is stored when, and only if, `tx` commits.
   * Await each call before the next: ids derived from the running handling
   * are taken in the order the envelopes are made.
   */
  async addIn(
    tx: SqlClient,
    command: object,
    options: Omit<SendOptions, 'timeoutMs'> = {},
  ): Promise<string> {
    const { envelope, row } = await this.prepare(command, options);
    await this.store.send(tx, row);
    return envelope.id;
  }

  /** Checks the command and makes its envelope and `send` row. */
  private async prepare(
    command: object,
    options: Omit<SendOptions, 'timeoutMs'>,
  ): Promise<{ envelope: Envelope; row: NewSchedule }> {
    const info = MessageTypeRegistry.forInstance(command);
    if (info?.kind !== 'command')
      throw new NotACommandError(command.constructor.name, info?.kind);
    // Stored to run later, elsewhere: a command that cannot pass fails here.
    await validateMessage(command, info.name, this.messages.unknownFields);
    // The id given, the instance's own, one derived from the message being
    // handled, or a new one: the same rules as any send.
    const envelope = createEnvelope(command, 'command', options);
    const payload = payloadOf(envelope);
    checkStorableText(payload, `payload of ${info.name}`);
    return {
      envelope,
      row: {
        id: sendScheduleId(envelope.id),
        kind: 'send',
        type: info.name,
        revision: info.revision,
        payload,
        metadata: envelope.metadata,
        due: { delayMs: 0 },
        deliveryId: envelope.id,
      },
    };
  }
}
