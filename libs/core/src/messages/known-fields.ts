import { getMetadataStorage } from 'class-validator';

/*
 * Which fields a message class declares, so that fields a caller added
 * (`isAdmin`, `ownerId`) never reach a handler. A field is declared when
 *  - it has a class-validator decorator (`@Allow()` for one without
 *    constraints), as class-validator's `whitelist` has it; or
 *  - `new Class()` sets it: a constructor parameter property
 *    (`constructor(readonly sku: string)`), a field assigned in the
 *    constructor, or a class field (emitted as a property with
 *    `useDefineForClassFields`, the default from target ES2022).
 * A class whose constructor throws without arguments cannot come off the
 * wire (rebuilding a message constructs it so); its instances are checked
 * against its decorated fields, or left alone when it declares none.
 */

const knownByClass = new WeakMap<object, ReadonlySet<string> | null>();

/** The fields a class declares; null when they cannot be known (see above). */
export function declaredFieldsOf(target: object): ReadonlySet<string> | null {
  let known = knownByClass.get(target);
  if (known === undefined) {
    known = discover(target);
    knownByClass.set(target, known);
  }
  return known;
}

function discover(target: object): ReadonlySet<string> | null {
  const decorated = getMetadataStorage()
    .getTargetValidationMetadatas(target as new () => object, '', true, false)
    .map((m) => m.propertyName);
  let constructed: string[] | undefined;
  try {
    constructed = Object.keys(
      new (target as new () => object)() as Record<string, unknown>,
    );
  } catch {
    constructed = undefined;
  }
  if (constructed === undefined && decorated.length === 0) return null;
  return new Set([...decorated, ...(constructed ?? [])]);
}

const MAX_DEPTH = 8;

function isClassInstance(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return (
    prototype !== null &&
    prototype !== Object.prototype &&
    prototype !== Array.prototype &&
    !(value instanceof Date)
  );
}

/** A field a class does not declare: its path as class-validator names it, and the steps to it. */
export interface UndeclaredField {
  readonly path: string;
  readonly steps: readonly (string | number)[];
}

/**
 * The fields of `message` its class does not declare, and those of nested
 * class instances (`lines[0].discount`). Plain nested objects are data, not
 * classes: left as they are.
 */
export function undeclaredFieldsOf(message: object): UndeclaredField[] {
  const found: UndeclaredField[] = [];
  collect(message, [], found);
  return found;
}

/**
 * Whether `undeclaredFieldsOf(message)` would find nothing, told without
 * listing: every field declared, none holding an object. Most messages are
 * flat; one with objects in it takes the full walk.
 */
export function onlyDeclaredFields(message: object): boolean {
  const declared = declaredFieldsOf(message.constructor);
  if (declared === null) return true;
  for (const key of Object.keys(message)) {
    if (!declared.has(key)) return false;
    const field = (message as Record<string, unknown>)[key];
    if (field !== null && typeof field === 'object') return false;
  }
  return true;
}

function collect(
  value: object,
  steps: readonly (string | number)[],
  found: UndeclaredField[],
): void {
  if (steps.length > MAX_DEPTH) return;
  const declared = declaredFieldsOf(value.constructor);
  if (declared === null) return;
  // Steps are copied only for what is reported or walked into: most fields
  // are declared and hold plain values.
  for (const key of Object.keys(value)) {
    if (!declared.has(key)) {
      const at = [...steps, key];
      found.push({ path: pathOf(at), steps: at });
      continue;
    }
    const field = (value as Record<string, unknown>)[key];
    if (Array.isArray(field)) {
      field.forEach((item, i) => {
        if (isClassInstance(item)) collect(item, [...steps, key, i], found);
      });
    } else if (isClassInstance(field)) {
      collect(field, [...steps, key], found);
    }
  }
}

function pathOf(steps: readonly (string | number)[]): string {
  return steps
    .map((step, i) =>
      typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`,
    )
    .join('');
}

/** Deletes the given fields from `message` (found on it, or on a copy of it with the same shape). */
export function deleteFields(
  message: object,
  fields: readonly UndeclaredField[],
): void {
  for (const { steps } of fields) {
    let holder: unknown = message;
    for (const step of steps.slice(0, -1)) {
      holder =
        holder !== null && typeof holder === 'object'
          ? (holder as Record<string | number, unknown>)[step]
          : undefined;
    }
    if (holder !== null && typeof holder === 'object') {
      delete (holder as Record<string | number, unknown>)[
        steps[steps.length - 1]
      ];
    }
  }
}
