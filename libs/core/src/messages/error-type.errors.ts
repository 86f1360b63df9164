import { ChronicleError } from './chronicle.error.js';

export class DuplicateErrorTypeError extends ChronicleError {
  readonly code = 'DUPLICATE_ERROR_TYPE';

  constructor(
    readonly typeName: string,
    existing: string,
    incoming: string,
  ) {
    super(
      `Error type "${typeName}" is declared by both ${existing} and ${incoming}. ` +
        'Callers rebuild an error from its type name, so it must be unique; rename one of them.',
    );
  }
}
