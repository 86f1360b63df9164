import {
  getMetadataStorage,
  validate,
  type ValidationError as ClassValidatorError,
} from 'class-validator';
import { ValidationError, type FieldViolation } from './validation.error.js';

function fieldPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

function flatten(
  errors: readonly ClassValidatorError[],
  parent = '',
): FieldViolation[] {
  return errors.flatMap((error) => {
    const field = fieldPath(parent, error.property);
    const own: FieldViolation[] = error.constraints
      ? [{ field, constraints: { ...error.constraints } }]
      : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const constrained = new WeakMap<object, boolean>();

/** Whether a class has any class-validator constraint (asked once per class). */
function hasConstraints(target: object): boolean {
  let known = constrained.get(target);
  if (known === undefined) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(
      target as new () => object,
      '',
      true,
      false,
    );
    known = metadata.length > 0;
    constrained.set(target, known);
  }
  return known;
}

/**
 * Checks a message instance against its class-validator decorators and throws
 * a `ValidationError` naming every failing field. Classes without decorators pass.
 */
export async function validateMessage(
  message: object,
  typeName: string,
): Promise<void> {
  // Most messages are checked on every send: skip the validator's async walk
  // for classes that declare nothing to check.
  if (!hasConstraints(message.constructor)) return;
  const errors = await validate(message, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ValidationError(typeName, flatten(errors));
  }
}
