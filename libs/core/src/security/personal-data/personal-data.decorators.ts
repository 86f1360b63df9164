import { maskField } from '../../message-log/index.js';

/** How one personal field is kept. */
export interface PersonalDataOptions {
  /**
   * What the field reads as once its subject is forgotten. Default `null`.
   * Choose a value the class's handlers accept (an empty string, `'(forgotten)'`):
   * replay and aggregates must still run on it.
   */
  readonly placeholder?: string | number | boolean | null;
}

/** The personal fields one class declares, by name, and its subject's field. */
export interface PersonalDataDefinition {
  readonly fields: ReadonlyMap<string, PersonalDataOptions>;
  /** The field whose value names the data subject (`@DataSubject`). */
  readonly subject: string | undefined;
}

const DEFINITION = Symbol('chronicle:personal-data');

interface MutableDefinition {
  fields: Map<string, PersonalDataOptions>;
  subject: string | undefined;
}

function ownDefinition(target: object): MutableDefinition {
  const holder = target as Record<symbol, MutableDefinition | undefined>;
  if (!Object.prototype.hasOwnProperty.call(target, DEFINITION)) {
    // A subclass starts from its parent's fields and adds its own.
    const inherited = personalDataOf(target);
    Object.defineProperty(target, DEFINITION, {
      value: {
        fields: new Map(inherited.fields),
        subject: inherited.subject,
      } satisfies MutableDefinition,
      enumerable: false,
      configurable: true,
    });
  }
  return holder[DEFINITION] as MutableDefinition;
}

/**
 * Marks a field as personal data. On an event class (with a `@DataSubject()`
 * field), the store keeps the field's value encrypted with its subject's key,
 * and `PersonalDataService.forgetSubject` makes it unreadable for good: it then
 * reads as `placeholder`. On any message, the message log masks it (`***`).
 */
export function PersonalData(
  options: PersonalDataOptions = {},
): PropertyDecorator {
  const mask = maskField('personal');
  return (target, key) => {
    mask(target, key);
    if (typeof key !== 'string') return;
    ownDefinition(target).fields.set(key, options);
  };
}

/**
 * Marks the field that holds the id of the person the class's `@PersonalData`
 * fields belong to (a customer id, a user id). One per class; the value is
 * stored in clear: it is how the data is found and forgotten.
 */
export function DataSubject(): PropertyDecorator {
  return (target, key) => {
    if (typeof key !== 'string') return;
    ownDefinition(target).subject = key;
  };
}

const NONE: PersonalDataDefinition = { fields: new Map(), subject: undefined };

/** The personal data a class (by its prototype) declares, inherited fields included. */
export function personalDataOf(
  prototype: object | null | undefined,
): PersonalDataDefinition {
  const found = prototype
    ? (prototype as Record<symbol, PersonalDataDefinition | undefined>)[
        DEFINITION
      ]
    : undefined;
  return found ?? NONE;
}
