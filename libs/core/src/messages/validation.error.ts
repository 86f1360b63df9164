import { ChronicleError } from './chronicle.error.js';

/** One field that failed validation, with every constraint it broke. */
export interface FieldViolation {
  /** The path of the field, e.g. `lines[0].quantity`. */
  readonly field: string;
  /** Constraint name to message, as class-validator reports them (`min: quantity must not be less than 1`). */
  readonly constraints: Readonly<Record<string, string>>;
}

/** A message's payload broke its class-validator constraints; nothing was handled. */
export class ValidationError extends ChronicleError {
  readonly code = 'VALIDATION_FAILED';

  constructor(
    readonly messageType: string,
    readonly violations: readonly FieldViolation[],
  ) {
    super(
      `Invalid ${messageType}: ` +
        violations
          .map(
            (v) =>
              `${v.field} (${Object.entries(v.constraints)
                .map(([name, text]) => `${name}: ${text}`)
                .join('; ')})`,
          )
          .join(', '),
    );
  }
}
