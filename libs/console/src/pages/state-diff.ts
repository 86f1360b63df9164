/** One difference between two states, at a JSON path like `lines[0].quantity`. */
export interface StateChange {
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null;

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? path
      ? `${path}.${key}`
      : key
    : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The leaves that differ between two JSON values, walked together: objects
 * by key, arrays by index, anything else compared as JSON.
 */
export function diffStates(
  before: unknown,
  after: unknown,
  path = '',
): StateChange[] {
  if (
    isObject(before) &&
    isObject(after) &&
    Array.isArray(before) === Array.isArray(after)
  ) {
    const keys = Array.isArray(before)
      ? [
          ...Array(
            Math.max(before.length, (after as unknown as unknown[]).length),
          ).keys(),
        ]
      : [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const has = (o: object) =>
        Array.isArray(o) ? (key as number) < o.length : Object.hasOwn(o, key);
      const b = (before as Record<string | number, unknown>)[key];
      const a = (after as Record<string | number, unknown>)[key];
      const at = join(path, key);
      if (!has(before)) return [{ path: at, kind: 'added' as const, after: a }];
      if (!has(after))
        return [{ path: at, kind: 'removed' as const, before: b }];
      return diffStates(b, a, at);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after)
    ? []
    : [{ path: path || '(state)', kind: 'changed', before, after }];
}
