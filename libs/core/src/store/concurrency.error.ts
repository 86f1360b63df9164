import { ChronicleError } from '../messages/index.js';
import type { ExpectedVersion } from './event-store.js';

/** A stream was not at the version the writer expected: someone else wrote first. */
export class ConcurrencyError extends ChronicleError {
  readonly code = 'CONCURRENCY_CONFLICT';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(
      `Stream "${streamId}" was expected at version ${describe(expectedVersion)} but is at ${actualVersion}. ` +
        'Load it again and retry the change.',
    );
  }
}

function describe(expected: ExpectedVersion): string {
  switch (expected) {
    case 'noStream':
      return '0 (no stream)';
    case 'exists':
      return '"exists" (at least 1)';
    case 'any':
      return '"any"';
    default:
      return String(expected);
  }
}
