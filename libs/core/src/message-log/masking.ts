/** Why a field is kept out of the message log. */
export type MaskReason = 'personal' | 'secret';

const MASKED = Symbol('chronicle:masked-fields');

/** What a masked field's value becomes in the log. */
export const MASK = '***';

/**
 * Marks a field to be masked in the log. `@Secret` and `@PersonalData` (see
 * security/personal-data, which also seals personal fields of events) use it.
 */
export function maskField(reason: MaskReason): PropertyDecorator {
  return (target, key) => {
    if (typeof key !== 'string') return;
    const own: Map<string, MaskReason> = Object.prototype.hasOwnProperty.call(
      target,
      MASKED,
    )
      ? (target as Record<symbol, Map<string, MaskReason>>)[MASKED]
      : new Map(maskedFieldsOf(target));
    own.set(key, reason);
    Object.defineProperty(target, MASKED, {
      value: own,
      enumerable: false,
      configurable: true,
    });
  };
}

/** Marks a field as a secret (a password, a card number): masked in the log like `@PersonalData`. */
export function Secret(): PropertyDecorator {
  return maskField('secret');
}

/** The masked fields a class (through its prototype chain) declares. */
export function maskedFieldsOf(
  prototype: object | null | undefined,
): ReadonlyMap<string, MaskReason> {
  const found = prototype
    ? (prototype as Record<symbol, Map<string, MaskReason> | undefined>)[MASKED]
    : undefined;
  return found ?? EMPTY;
}

const EMPTY: ReadonlyMap<string, MaskReason> = new Map();

/**
 * The payload with every field masked that `message`'s class, or the class of
 * an object nested in it, marks. `payload` is the message as JSON (what the
 * log stores); `message` the instance whose classes say what to mask.
 */
export function maskPayload(message: unknown, payload: unknown): unknown {
  if (message === null || typeof message !== 'object') return payload;
  if (payload === null || typeof payload !== 'object') return payload;
  if (Array.isArray(message)) {
    if (!Array.isArray(payload)) return payload;
    let copy: unknown[] | undefined;
    payload.forEach((item, i) => {
      const masked = maskPayload(message[i], item);
      if (masked !== item) (copy ??= [...payload])[i] = masked;
    });
    return copy ?? payload;
  }
  const fields = maskedFieldsOf(Object.getPrototypeOf(message) as object);
  const source = message as Record<string, unknown>;
  const json = payload as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(json)) {
    const value = json[key];
    const masked = fields.has(key)
      ? value === undefined || value === null
        ? value
        : MASK
      : maskPayload(source[key], value);
    if (masked !== value) (copy ??= { ...json })[key] = masked;
  }
  return copy ?? payload;
}
