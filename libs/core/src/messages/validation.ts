import {
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

/**
 * Checks a message instance against its class-validator decorators and throws
 * a `ValidationError` naming every failing field. Classes without decorators pass.
 */
export async function validateMessage(
  message: object,
  typeName: string,
): Promise<void> {
  const errors = await validate(message, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ValidationError(typeName, flatten(errors));
  }
}
