import {
  getMetadataStorage,
  validate,
  type ValidationError as ClassValidatorError,
} from 'class-validator';
import {
  deleteFields,
  onlyDeclaredFields,
  undeclaredFieldsOf,
} from './known-fields.js';
import type { UnknownFieldsPolicy } from './message.options.js';
import type { MessageClass } from './message-type.registry.js';
import { fromPayload, toPayload } from './serialization.js';
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

interface Constraints {
  /** Any class-validator constraint at all. */
  readonly any: boolean;
  /** The `@ValidateNested` fields, whose values a message built in process may hold as plain objects. */
  readonly nested: readonly string[];
}

const constraintsByClass = new WeakMap<object, Constraints>();

/** What a class asks of the validator (asked once per class). */
function constraintsOf(target: object): Constraints {
  let known = constraintsByClass.get(target);
  if (known === undefined) {
    const metadata = getMetadataStorage().getTargetValidationMetadatas(
      target as new () => object,
      '',
      true,
      false,
    );
    known = {
      any: metadata.length > 0,
      nested: [
        ...new Set(
          metadata
            .filter((m) => m.type === 'nestedValidation')
            .map((m) => m.propertyName),
        ),
      ],
    };
    constraintsByClass.set(target, known);
  }
  return known;
}

const isPlainObject = (value: unknown): boolean =>
  value !== null &&
  typeof value === 'object' &&
  Object.getPrototypeOf(value) === Object.prototype;

/** Whether a nested field holds a plain object (or an array with one), which the validator would skip. */
function holdsPlainNested(message: object, fields: readonly string[]): boolean {
  return fields.some((field) => {
    const value = (message as Record<string, unknown>)[field];
    return Array.isArray(value)
      ? value.some(isPlainObject)
      : isPlainObject(value);
  });
}

/**
 * Checks a message instance before its handler runs: removes the fields its
 * class does not declare (or, with `unknownFields: 'refuse'`, fails naming
 * them), then checks its class-validator decorators. Throws a
 * `ValidationError` naming every failing field.
 */
export async function validateMessage(
  message: object,
  typeName: string,
  unknownFields: UnknownFieldsPolicy = 'strip',
): Promise<void> {
  await checkMessage(message, typeName, unknownFields);
}

/**
 * `validateMessage` without a promise when none is needed: a class that
 * declares no constraints is checked at once (undefined returned, or a
 * `ValidationError` thrown); only class-validator's walk is awaited. For the
 * hot paths, where most messages declare nothing to check.
 */
export function checkMessage(
  message: object,
  typeName: string,
  unknownFields: UnknownFieldsPolicy = 'strip',
): Promise<void> | undefined {
  const constraints = constraintsOf(message.constructor);
  // Nested fields built in process may be plain objects (`lines: [{ sku, quantity }]`),
  // which class-validator cannot check; over the wire they arrive as instances of
  // their @Type. Check what the handler would receive from another process, so a
  // message is valid or invalid the same way wherever it is handled.
  // A message that already holds instances (rebuilt off the wire, or built
  // with its classes) is checked as it is: no second round trip.
  const subject =
    constraints.nested.length > 0 &&
    holdsPlainNested(message, constraints.nested)
      ? fromPayload(
          message.constructor as MessageClass<object>,
          toPayload(message),
        )
      : message;
  // Most messages are flat and hold only declared fields: told without a list.
  if (onlyDeclaredFields(subject)) {
    if (!constraints.any) return undefined;
    return validated(subject, typeName, []);
  }
  const undeclared = undeclaredFieldsOf(subject);
  const violations: FieldViolation[] =
    unknownFields === 'refuse' ? undeclared.map(whitelistViolation) : [];
  if (unknownFields === 'strip' && undeclared.length > 0) {
    deleteFields(message, undeclared);
    if (subject !== message) deleteFields(subject, undeclared);
  }
  // Most messages are checked on every send: skip the validator's async walk
  // for classes that declare nothing to check.
  if (!constraints.any) {
    if (violations.length > 0) throw new ValidationError(typeName, violations);
    return undefined;
  }
  return validated(subject, typeName, violations);
}

/** Runs class-validator on `subject`; throws with its violations and those found before. */
function validated(
  subject: object,
  typeName: string,
  violations: FieldViolation[],
): Promise<void> {
  return validate(subject, { forbidUnknownValues: false }).then((errors) => {
    violations.push(...flatten(errors));
    if (violations.length > 0) {
      throw new ValidationError(typeName, violations);
    }
  });
}

/**
 * Applies the unknown-fields policy alone, to a payload that has no other
 * checks (a schedule payload when delivered): strips the fields its class
 * does not declare, or throws a `ValidationError` naming them.
 */
export function checkDeclaredFields(
  message: object,
  typeName: string,
  unknownFields: UnknownFieldsPolicy = 'strip',
): void {
  const undeclared = undeclaredFieldsOf(message);
  if (undeclared.length === 0) return;
  if (unknownFields === 'strip') return deleteFields(message, undeclared);
  throw new ValidationError(typeName, undeclared.map(whitelistViolation));
}

function whitelistViolation({ path }: { path: string }): FieldViolation {
  return {
    field: path,
    constraints: { whitelistValidation: `property ${path} should not exist` },
  };
}
