import { ResultNotJsonError } from './handling.errors.js';
import { asRecorded, NOT_PLAIN, plainJsonCopy } from './recorded-result.js';

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
}

const sparse: unknown[] = [1];
sparse[2] = 3;
const nullPrototype = Object.assign(Object.create(null) as object, { a: 1 });
const withProto = JSON.parse('{"__proto__": {"x": 1}, "a": 1}') as object;

const results: [string, unknown][] = [
  ['a string', 'id-1'],
  ['a number', 42],
  ['zero', 0],
  ['minus zero', -0],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['true', true],
  ['null', null],
  ['a plain object', { orderId: 'o-1', total: 12.5, lines: [{ sku: 'a' }] }],
  ['undefined fields', { a: 1, b: undefined, c: { d: undefined } }],
  ['integer-like keys', { b: 1, 2: 'two', a: 3, 1: 'one' }],
  ['an array with undefined', [1, undefined, 'x']],
  ['a sparse array', sparse],
  ['a class instance', new Money(5, 'EUR')],
  ['a Date', new Date(0)],
  ['a nested Date', { at: new Date(0) }],
  ['a toJSON field', { toJSON: () => 'custom' }],
  ['a function field', { a: 1, f: () => 1 }],
  ['a null prototype', nullPrototype],
  ['an own __proto__ key', withProto],
];

describe('a command result as recorded', () => {
  it.each(results)('is what a JSON round trip makes of %s', (_, result) => {
    const expected = JSON.parse(JSON.stringify(result)) as unknown;
    const recorded = asRecorded(result, 'test.Command');
    expect(recorded).toStrictEqual(expected);
    expect(JSON.stringify(recorded)).toBe(JSON.stringify(expected));
  });

  it('is a copy, never the handler own object', () => {
    const result = { lines: [{ sku: 'a' }] };
    const recorded = asRecorded(result, 'test.Command') as typeof result;
    expect(recorded).not.toBe(result);
    expect(recorded.lines).not.toBe(result.lines);
    expect(recorded.lines[0]).not.toBe(result.lines[0]);
  });

  it('is undefined for undefined', () => {
    expect(asRecorded(undefined, 'test.Command')).toBeUndefined();
  });

  it('takes the JSON round trip for anything JSON changes or refuses', () => {
    for (const value of [-0, NaN, sparse, new Money(1, 'EUR'), withProto]) {
      expect(plainJsonCopy(value, 0)).toBe(NOT_PLAIN);
    }
  });

  it('refuses what JSON cannot hold, naming the command type', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => asRecorded(cyclic, 'test.Command')).toThrow(
      ResultNotJsonError,
    );
    expect(() => asRecorded({ n: 1n }, 'test.Command')).toThrow(
      ResultNotJsonError,
    );
  });
});
