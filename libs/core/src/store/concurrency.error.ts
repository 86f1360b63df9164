import { ChronicleError } from '../messages/index.js';
import type { ExpectedVersion } from './event-store.js';

/** A stream was not at the version the writer expected: someone else wrote first. */
export class ConcurrencyError extends ChronicleError {
  readonly code = 'CONCURRENCY_CONFLICT';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
    /** Why, when it is not "expected one version, found another". */
    reason?: string,
  ) {
    super(reason ?? describe(streamId, expectedVersion, actualVersion));
  }
}

function describe(
  streamId: string,
  expected: ExpectedVersion,
  actual: number,
): string {
  switch (expected) {
    case 'noStream':
      return `Stream "${streamId}" was expected to have no events but is at version ${actual}. Load it and apply the change to its current state.`;
    case 'exists':
      return `Stream "${streamId}" was expected to exist but has no events (version 0). Create it first.`;
    case 'any':
      return `Stream "${streamId}" could not be appended to (it is at version ${actual}). Retry the change.`;
    default:
      return `Stream "${streamId}" was expected at version ${expected} but is at ${actual}. Load it again and retry the change.`;
  }
}
