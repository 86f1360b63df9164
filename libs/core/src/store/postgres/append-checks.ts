import {
  checkId,
  checkStorableText,
  checkTypeName,
  checkUuid,
  isPlainObject,
  jsonTextIsStorable,
} from '../../messages/index.js';
import type { HandledCommand, NewEvent } from '../event-store.js';
import { InvalidAppendError } from '../store.errors.js';

/*
 * What an append must hold before it reaches PostgreSQL, so that a bad stream
 * id, event or text fails with a typed error naming it rather than a raw
 * database error (a refused jsonb escape, an index row too large, a bad uuid).
 */

/** Checks one event of an append to `streamId` (its id, type, revision, timestamp, payload and metadata shape). */
export function checkNewEvent(streamId: string, event: NewEvent): void {
  const where = `an event of stream "${streamId}"`;
  if (event === null || typeof event !== 'object') {
    throw new InvalidAppendError(`${where} is ${String(event)}, not an event.`);
  }
  checkUuid(event.id, `id of ${where}`);
  checkTypeName(event.type, `type of ${where}`);
  if (
    !Number.isInteger(event.revision) ||
    event.revision < 1 ||
    event.revision > 2 ** 31 - 1
  ) {
    throw new InvalidAppendError(
      `The revision of ${event.type} in stream "${streamId}" must be a whole number from 1, got ${String(event.revision)}.`,
    );
  }
  if (
    !(event.timestamp instanceof Date) ||
    Number.isNaN(event.timestamp.getTime())
  ) {
    throw new InvalidAppendError(
      `The timestamp of ${event.type} in stream "${streamId}" must be a valid Date, got ${String(event.timestamp)}.`,
    );
  }
  if (!isPlainObject(event.payload)) {
    throw new InvalidAppendError(
      `The payload of ${event.type} in stream "${streamId}" must be a JSON object (toPayload(instance)).`,
    );
  }
  if (!isPlainObject(event.metadata)) {
    throw new InvalidAppendError(
      `The metadata of ${event.type} in stream "${streamId}" must be a plain object.`,
    );
  }
}

/** Checks the command record an append carries. */
export function checkHandledCommand(command: HandledCommand): void {
  checkId(command.id, 'command id');
  checkTypeName(command.type, 'command type');
}

/**
 * Checks the JSON text about to be sent (cheaply: a scan for escapes), and on
 * a hit walks the values to name what holds the bad text and where.
 */
export function checkStorableJson(
  eventsJson: string,
  events: readonly NewEvent[],
  resultJson: string | null,
  command: HandledCommand | undefined,
): void {
  if (!jsonTextIsStorable(eventsJson)) {
    for (const event of events) {
      checkStorableText(event.payload, `payload of ${event.type}`);
      checkStorableText(event.metadata, `metadata of ${event.type}`);
    }
    throw unnamed('events');
  }
  if (resultJson !== null && !jsonTextIsStorable(resultJson)) {
    checkStorableText(command?.result, `result of ${command?.type}`);
    throw unnamed('command result');
  }
}

/** Bad text the walk could not place (a `toJSON` of a class wrote it). */
function unnamed(what: string): InvalidAppendError {
  return new InvalidAppendError(
    `The ${what} of this append hold a NUL character or an unpaired surrogate as JSON, ` +
      'which PostgreSQL cannot store; check the toJSON methods of their classes.',
  );
}
