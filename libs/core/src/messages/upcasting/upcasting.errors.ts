import { ChronicleError } from '../chronicle.error.js';

/** Two upcasters claim the same stored type and revision: which one wins would be luck. */
export class DuplicateUpcasterError extends ChronicleError {
  readonly code = 'DUPLICATE_UPCASTER';

  constructor(
    readonly typeName: string,
    readonly fromRevision: number,
    existing: string,
    incoming: string,
  ) {
    super(
      `Two upcasters turn "${typeName}" revision ${fromRevision}: ${existing} and ${incoming}. ` +
        'Keep one of them.',
    );
  }
}

/** An upcaster returned something that is not an event, or a chain went round in circles. */
export class UpcastFailedError extends ChronicleError {
  readonly code = 'UPCAST_FAILED';

  constructor(
    readonly typeName: string,
    readonly revision: number,
    readonly position: bigint,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `Upcasting "${typeName}" revision ${revision} at position ${position} failed: ${reason}`,
      options,
    );
  }
}
