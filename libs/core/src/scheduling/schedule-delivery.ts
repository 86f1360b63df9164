import type { Logger } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import type {
  FailureReporter,
  HandlingFailure,
  MessageGateway,
  UnitOfWork,
} from '../handling/index.js';
import type { HandlingLog } from '../message-log/index.js';
import {
  checkDeclaredFields,
  fromPayload,
  MessageContext,
  MessageTypeRegistry,
  newMessageId,
  outcomeOf,
  UnknownMessageTypeError,
  type Envelope,
  type MessageMetadata,
  type UnknownFieldsPolicy,
} from '../messages/index.js';
import { isAccessRefusal, type AccessCheck } from '../security/index.js';
import type { SqlClient } from '../store/index.js';
import {
  ATTR,
  failSpan,
  inSpan,
  secondsSince,
  Telemetry,
  traceContextOf,
} from '../telemetry/index.js';
import type { Clock } from './clock.js';
import { nextOccurrence } from './periodic.js';
import type { ScheduleContext } from './scheduled-message.js';
import type { ScheduleHandler, ScheduleHandlers } from './schedule-handlers.js';
import type {
  ClaimedSchedule,
  Delivered,
  ScheduleStore,
} from './schedule-store.js';
import type { ResolvedSchedulingOptions } from './scheduling.options.js';
import { ScheduleHandlerNotFoundError } from './scheduling.errors.js';

/** Span attribute: which try of this occurrence a delivery is. */
const SCHEDULE_ATTEMPT = 'chronicle.schedule.attempt';

/** The claim on a schedule ran out (or it was replaced or cancelled) while it was being delivered. */
class ClaimLostError extends Error {}

/** Plain text of a failure, for `last_error`. */
function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * What became of one delivery. `delivered`: it ran and wrote nothing of its
 * own, so its row is still to be removed (or re-armed), together with others
 * (see `ScheduleRemovals`). Else its outcome is recorded already, and it is
 * due again at `dueAgainMs` (a retry, the next occurrence) if at all.
 */
export type DeliveryOutcome =
  | { readonly delivered: Delivered }
  | { readonly delivered?: undefined; readonly dueAgainMs?: number };

/**
 * Delivers one claimed schedule and records the outcome: removed (or, for a
 * periodic one, re-armed for its next occurrence) when delivered; released
 * for a retry with exponential back-off when it failed; recorded as dead with
 * its error after the last try. Nothing is dropped.
 *
 * Once: a `@HandleSchedule`/`@Periodic` method runs in a unit of work; when
 * it staged anything (events, enlisted writes, after-commit callbacks), that
 * unit of work's transaction also removes the schedule, checked against this
 * instance's claim, so its writes commit only if the claim still held. When it
 * staged nothing, and for a command (sent with the occurrence's delivery id as
 * its command id, recorded in the command's own transaction), the removal is
 * left to the caller, to be made with other deliveries' in one statement: a
 * second delivery of the same occurrence (after a crash before the removal)
 * writes nothing again, and its commands return their first results.
 */
export class ScheduleDelivery {
  constructor(
    private readonly store: ScheduleStore,
    private readonly handlers: ScheduleHandlers,
    private readonly gateway: MessageGateway,
    private readonly unitOfWork: UnitOfWork,
    private readonly clock: Clock,
    private readonly options: ResolvedSchedulingOptions,
    private readonly logger: Logger,
    private readonly unknownFields: UnknownFieldsPolicy = 'strip',
    private readonly telemetry: Telemetry = Telemetry.off,
    private readonly log?: HandlingLog,
    private readonly failures?: FailureReporter,
    private readonly access?: AccessCheck,
  ) {}

  /**
   * Delivers, and records the outcome unless it is left to a batch (see
   * `DeliveryOutcome`), in a span `deliver <type>` that continues the trace
   * the schedule was made in; counted, timed, and its lateness measured.
   */
  deliver(claimed: ClaimedSchedule): Promise<DeliveryOutcome> {
    const metrics = this.telemetry.metrics;
    if (metrics) {
      // The claim's "now" and the due time come from the same clock (the store's).
      const startMs = claimed.claimedAtMs || this.clock.nowMs();
      metrics.scheduleLateness.observe(
        { type: claimed.type },
        Math.max(0, startMs - claimed.dueAt.getTime()) / 1000,
      );
    }
    const handler = this.handlerOf(claimed);
    const start = performance.now();
    return inSpan(
      `deliver ${claimed.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR.operationType]: 'process',
          [ATTR.operationName]: 'deliver',
          [ATTR.messageType]: claimed.type,
          [ATTR.messageId]: claimed.deliveryId,
          [ATTR.handler]: handler,
          [ATTR.dbSystem]: 'postgresql',
          [SCHEDULE_ATTEMPT]: claimed.attempts,
        },
      },
      async (span) => {
        const logged = this.startLog(claimed);
        const { outcome, error } = await this.deliverAndRecord(claimed);
        if (error === undefined) logged?.ok(undefined);
        else logged?.failed(error);
        const result = error === undefined ? 'ok' : outcomeOf(error);
        if (error !== undefined) failSpan(span, error);
        span.setAttribute(ATTR.outcome, result);
        metrics?.handled(
          'schedule',
          claimed.type,
          handler,
          secondsSince(start),
          result,
        );
        return outcome;
      },
      traceContextOf(claimed.metadata),
    );
  }

  /** What a delivery runs: `send` (the command bus), or the method's `Class.method`. */
  private handlerOf(claimed: ClaimedSchedule): string {
    return claimed.kind === 'command' || claimed.kind === 'send'
      ? 'send'
      : (this.handlers.get(claimed.type)?.owner ?? claimed.type);
  }

  /**
   * The delivery's row in the message log (kind `schedule`), written behind
   * with its outcome. A command it sends is logged again by the pipeline
   * that handles it: this row is the delivery, that one the handling.
   */
  private startLog(claimed: ClaimedSchedule) {
    if (!this.log?.logs('schedule')) return undefined;
    const { message, payload } = this.loggedPayload(claimed);
    return this.log.start(
      'schedule',
      () => ({
        id: claimed.deliveryId,
        type: claimed.type,
        revision: claimed.revision,
        payload: claimed.payload ?? {},
        metadata: claimed.metadata,
        timestamp: claimed.occurrenceAt,
      }),
      () => payload,
      message,
      undefined,
    );
  }

  /**
   * The payload as the log keeps it, with the instance whose classes say
   * what to mask; `null` when an instance of its known class cannot be made
   * (an unmasked payload must never reach the log).
   */
  private loggedPayload(claimed: ClaimedSchedule): {
    message?: object;
    payload: unknown;
  } {
    if (claimed.payload === null) return { payload: null };
    const target =
      claimed.kind === 'command' || claimed.kind === 'send'
        ? MessageTypeRegistry.forName(claimed.type)?.target
        : this.handlers.get(claimed.type)?.payload;
    if (!target) return { payload: claimed.payload };
    try {
      return {
        message: fromPayload(target, claimed.payload),
        payload: claimed.payload,
      };
    } catch {
      return { payload: null };
    }
  }

  /** The delivery and its recorded outcome; `error` when the delivery failed. */
  private async deliverAndRecord(
    claimed: ClaimedSchedule,
  ): Promise<{ outcome: DeliveryOutcome; error?: unknown }> {
    try {
      if (claimed.attempts > this.options.maxAttempts) {
        // Claimed that often without an outcome: its instances died delivering it.
        throw new Error(
          `Abandoned ${claimed.attempts - 1} times: the instance delivering it stopped before it finished`,
        );
      }
      const nextMs = claimed.periodic ? this.nextOf(claimed) : undefined;
      const recorded =
        claimed.kind === 'command' || claimed.kind === 'send'
          ? await this.sendCommand(claimed)
          : await this.invokeHandler(claimed, nextMs);
      if (recorded) return { outcome: { dueAgainMs: nextMs } };
      return {
        outcome: {
          delivered: { claimed, nextMs, nextDeliveryId: newMessageId() },
        },
      };
    } catch (error) {
      if (error instanceof ClaimLostError) {
        this.logger.warn(
          `Schedule ${claimed.id}: claim lost during delivery (replaced, cancelled, or its claim timed out); its effects were rolled back`,
        );
        return { outcome: {}, error };
      }
      this.telemetry.metrics?.scheduleFailures.inc({ type: claimed.type });
      const failure: HandlingFailure = {
        kind: 'schedule',
        messageId: claimed.deliveryId,
        messageType: claimed.type,
        metadata: claimed.metadata,
        handler: `schedule:${this.handlerOf(claimed)}`,
        error,
        attempt: claimed.attempts,
        next: this.isFinal(claimed, error) ? 'dead' : 'retry',
      };
      this.failures?.report(failure);
      return {
        outcome: { dueAgainMs: await this.failed(claimed, error, failure) },
        error,
      };
    }
  }

  /**
   * Whether a failed delivery is dead now: after its last try, or at once
   * when access was refused (the same user would be refused again).
   */
  private isFinal(claimed: ClaimedSchedule, error: unknown): boolean {
    return (
      claimed.attempts >= this.options.maxAttempts || isAccessRefusal(error)
    );
  }

  /**
   * The metadata a delivery runs with: the scheduler's user, carried in the
   * row since it was scheduled; a schedule nobody scheduled as a user (one
   * the app armed itself, `@Periodic`) runs as the provider's system user.
   */
  private deliveredMetadata(claimed: ClaimedSchedule): MessageMetadata {
    return this.access?.withSystemUser(claimed.metadata) ?? claimed.metadata;
  }

  /** Sends the command; its row is left to the batch (false: not recorded here). */
  private async sendCommand(claimed: ClaimedSchedule): Promise<false> {
    const info = MessageTypeRegistry.forName(claimed.type);
    if (!info || info.kind !== 'command') {
      throw new UnknownMessageTypeError(claimed.type);
    }
    const command = fromPayload(info.target, claimed.payload ?? {});
    // The command's handler checks its user, as for any command.
    await this.gateway.send(command, {
      id: claimed.deliveryId,
      metadata: this.deliveredMetadata(claimed),
    });
    return false;
  }

  /**
   * Runs the handler in a unit of work. Returns true when its transaction
   * also recorded the outcome (it staged writes), false when it staged
   * nothing and the row is left to the batch.
   */
  private async invokeHandler(
    claimed: ClaimedSchedule,
    nextMs: number | undefined,
  ): Promise<boolean> {
    const handler = this.handlers.get(claimed.type);
    if (!handler) throw new ScheduleHandlerNotFoundError(claimed.type);
    const payload = handler.payload
      ? fromPayload(handler.payload, claimed.payload ?? {})
      : undefined;
    // A command is checked by the pipeline it is sent through; a payload here.
    if (payload) checkDeclaredFields(payload, claimed.type, this.unknownFields);
    const context: ScheduleContext = {
      scheduleId: claimed.id,
      deliveryId: claimed.deliveryId,
      dueAt: claimed.occurrenceAt,
      attempt: claimed.attempts,
    };
    const envelope: Envelope = {
      id: claimed.deliveryId,
      type: claimed.type,
      revision: claimed.revision,
      payload: payload ?? {},
      metadata: this.deliveredMetadata(claimed),
      timestamp: this.clock.now(),
    };
    this.checkAccess(handler, envelope);
    let recorded = false;
    await this.unitOfWork.run(() =>
      MessageContext.run(
        envelope,
        async () => {
          await handler.invoke(payload, context);
          // Nothing staged: no transaction at all; the batch removes the row.
          if (!this.unitOfWork.staged) return;
          recorded = true;
          await this.unitOfWork.enlist(async (tx) => {
            if (!(await this.finish(tx, claimed, nextMs))) {
              throw new ClaimLostError();
            }
          });
        },
        `schedule:${claimed.type}`,
      ),
    );
    return recorded;
  }

  /** `@RequiresUser`/`@RequiresRole` on the handler's class or the payload class, before the handler runs. */
  private checkAccess(handler: ScheduleHandler, envelope: Envelope): void {
    if (!this.access || !handler.holder) return;
    const rule = this.access.ruleFor(handler.holder, handler.payload ?? Object);
    if (rule === null) return;
    try {
      this.access.enforce(rule, envelope.metadata, envelope.type);
    } catch (error) {
      if (isAccessRefusal(error)) {
        this.access.logRefusal(
          error,
          `Schedule delivery ${envelope.id} (${envelope.type}) to ${handler.owner}`,
        );
      }
      throw error;
    }
  }

  /** Removes a one-off schedule, or arms a periodic one's next occurrence. */
  private finish(
    tx: SqlClient,
    claimed: ClaimedSchedule,
    nextMs: number | undefined,
  ): Promise<boolean> {
    if (nextMs === undefined) return this.store.complete(tx, claimed);
    return this.store.rearm(tx, claimed, nextMs, newMessageId());
  }

  /** The next occurrence after this one that is not already past when it was claimed (by the store's clock). */
  private nextOf(claimed: ClaimedSchedule): number {
    if (!claimed.periodic) throw new Error('not periodic');
    return nextOccurrence(
      claimed.periodic,
      claimed.occurrenceAt.getTime(),
      claimed.claimedAtMs,
    );
  }

  private async failed(
    claimed: ClaimedSchedule,
    error: unknown,
    failure: HandlingFailure,
  ): Promise<number | undefined> {
    const text = errorText(error);
    const { maxAttempts, retryDelayMs, maxRetryDelayMs } = this.options;
    if (this.isFinal(claimed, error)) {
      this.logger.error(
        isAccessRefusal(error)
          ? `Schedule ${claimed.id} (${claimed.type}) is dead: its delivery was refused, and would be on every try: ${text}`
          : `Schedule ${claimed.id} (${claimed.type}) is dead after ${claimed.attempts} tries: ${text}`,
      );
      if (!claimed.periodic) {
        await this.store.bury(
          claimed,
          text,
          this.failures?.errorMessageOf(failure),
        );
        return undefined;
      }
      const nextMs = this.nextOf(claimed);
      await this.store.buryOccurrence(claimed, text, nextMs, newMessageId());
      return nextMs;
    }
    const pause = Math.min(
      retryDelayMs * 2 ** (claimed.attempts - 1),
      maxRetryDelayMs,
    );
    this.logger.warn(
      `Schedule ${claimed.id} (${claimed.type}) failed on try ${claimed.attempts} of ${maxAttempts}, retrying in ${pause} ms: ${text}`,
    );
    return this.store.retry(claimed, pause, text);
  }
}
