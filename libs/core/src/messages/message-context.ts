import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { Envelope } from './envelope.js';
import { deriveMessageId } from './message-id.js';

/**
 * One run of one handler on one message. Messages sent during it get ids
 * derived from the message's id, the handler's name and an ordinal per type,
 * so running the handler again (a retry, a replay, a conflict re-run) sends
 * the same ids, which the receivers' idempotency records absorb.
 *
 * The same frame carries the unit of work the code runs in (see
 * `unitOfWorkContext`): one AsyncLocalStorage for both, because entering
 * one costs more than the rest of a local command's dispatch.
 */
interface Handling {
  /** The message's envelope; undefined in a unit of work opened outside any handling. */
  readonly source: EnvelopeSource | undefined;
  readonly handler: string;
  /** Shared by every frame of one handling, so ordinals never restart within it. */
  readonly ordinals: Ordinals;
  readonly unitOfWork: UnitOfWorkLink | undefined;
  /**
   * Metadata every message made in this frame carries, over what it inherits
   * from the handled message (`runWithMetadata`: who runs the code, set where
   * a request comes in). Not inherited by a handling opened inside: there the
   * handled message says who runs.
   */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * The units of work the code runs in, innermost first, each with the
 * UnitOfWork that opened it: each instance (one per app in a process) sees
 * only its own, as if it had its own AsyncLocalStorage.
 */
interface UnitOfWorkLink {
  readonly owner: object;
  readonly scope: object;
  readonly outer: UnitOfWorkLink | undefined;
}

interface Ordinals {
  /** Made on the first send: most handlings send nothing. */
  sent: Map<string, number> | undefined;
}

const storage = new AsyncLocalStorage<Handling>();

/**
 * `storage.run(handling, fn)`, entering one frame instead of two: `run` makes
 * a frame to enter and another to restore the caller's store (a copy of the
 * first), which showed in every local command. An AsyncResource's scope
 * restores the caller's own frame on exit, unchanged: `enterWith` inside it
 * holds for `fn` and what it awaits, and ends with the scope.
 */
function enter<R>(handling: Handling, fn: () => R): R {
  return new AsyncResource(RESOURCE_TYPE).runInAsyncScope(
    enterAndCall,
    undefined,
    handling,
    fn,
  ) as R;
}

const RESOURCE_TYPE = 'chronicle.handling';

function enterAndCall<R>(handling: Handling, fn: () => R): R {
  storage.enterWith(handling);
  return fn();
}

/**
 * The message being handled right now, carried across awaits. Envelopes made
 * while it is set take their correlation from it and name it as their cause.
 */
export const MessageContext = {
  current(): Envelope | undefined {
    return storage.getStore()?.source?.envelope;
  },

  /**
   * Runs `fn` as `handler`'s handling of `envelope`. `handler` names the code
   * that runs (`command:PlaceOrderHandler`, `consumer:billing:onOrderPlaced`):
   * stable across restarts and deploys, distinct per handler of one message.
   * Each call starts the ordinals afresh: call it once per attempt.
   */
  run<R>(envelope: Envelope, fn: () => R, handler = 'handler'): R {
    return runHandling({ source: { envelope }, handler }, fn);
  },

  /**
   * The id of the next message of `type` sent by the running handler, or
   * undefined outside any handling (the sender then makes a new id).
   */
  nextDerivedId(type: string): string | undefined {
    const handling = storage.getStore();
    if (handling?.source === undefined) return undefined;
    const sent = (handling.ordinals.sent ??= new Map());
    const ordinal = sent.get(type) ?? 0;
    sent.set(type, ordinal + 1);
    return deriveMessageId(
      handling.source.envelope.id,
      handling.handler,
      type,
      ordinal,
    );
  },
};

/**
 * Where a handling's envelope comes from: an envelope made already
 * (`{ envelope }`), or one made when first read (see `deferEnvelope`), so
 * that a handling that never reads it never makes it.
 */
export interface EnvelopeSource {
  readonly envelope: Envelope;
}

/** Whether a handling is running here (its envelope is not made for asking). */
export function inHandling(): boolean {
  return storage.getStore()?.source !== undefined;
}

/**
 * Whether a message made here takes anything from its context: a handling
 * runs, or `runWithMetadata` gave metadata.
 */
export function inMessageScope(): boolean {
  const frame = storage.getStore();
  return frame?.source !== undefined || frame?.metadata !== undefined;
}

/**
 * Runs `fn` so that every message made in it (outside the handlings it
 * opens) carries `metadata` over what it would inherit; nested calls add to
 * the outer one's. The seam security/ runs code as a user through; messages/
 * knows nothing of users. Not for application code: use `CurrentUser.runAs`.
 */
export function runWithMetadata<R>(
  metadata: Readonly<Record<string, unknown>>,
  fn: () => R,
): R {
  const current = storage.getStore();
  return enter(
    {
      source: current?.source,
      handler: current?.handler ?? 'handler',
      ordinals: current?.ordinals ?? { sent: undefined },
      unitOfWork: current?.unitOfWork,
      metadata:
        current?.metadata === undefined
          ? metadata
          : { ...current.metadata, ...metadata },
    },
    fn,
  );
}

/** The metadata `runWithMetadata` gave the code running now, if any. */
export function scopeMetadata(): Readonly<Record<string, unknown>> | undefined {
  return storage.getStore()?.metadata;
}

/** `MessageContext.run` for a handling whose envelope may be made later. Not for application code. */
export function runHandling<R>(start: HandlingStart, fn: () => R): R {
  return enter(
    {
      source: start.source,
      handler: start.handler,
      ordinals: { sent: undefined },
      unitOfWork: storage.getStore()?.unitOfWork,
    },
    fn,
  );
}

/** A handling to open, alone or with a unit of work: `MessageContext.run`'s arguments. */
export interface HandlingStart {
  readonly source: EnvelopeSource;
  readonly handler: string;
}

/**
 * Where handling/'s UnitOfWork keeps its scope: in the frame of the running
 * handling, so that a command's handling and its unit of work are entered
 * once, not once each. Not for application code.
 */
export interface UnitOfWorkContext<S extends object> {
  getStore(): S | undefined;
  /**
   * Runs `fn` in unit of work `scope`, within the running handling, or, when
   * `handling` is given, as a new handling (as `MessageContext.run` opens it).
   */
  run<R>(scope: S, fn: () => R, handling?: HandlingStart): R;
}

export function unitOfWorkContext<S extends object>(): UnitOfWorkContext<S> {
  const owner = {};
  return {
    getStore: () => {
      let link = storage.getStore()?.unitOfWork;
      while (link !== undefined && link.owner !== owner) link = link.outer;
      return link?.scope as S | undefined;
    },
    run: (scope, fn, handling) => {
      const current = storage.getStore();
      const unitOfWork = { owner, scope, outer: current?.unitOfWork };
      return enter(
        handling
          ? {
              source: handling.source,
              handler: handling.handler,
              ordinals: { sent: undefined },
              unitOfWork,
            }
          : {
              source: current?.source,
              handler: current?.handler ?? 'handler',
              ordinals: current?.ordinals ?? { sent: undefined },
              unitOfWork,
              metadata: current?.metadata,
            },
        fn,
      );
    },
  };
}
