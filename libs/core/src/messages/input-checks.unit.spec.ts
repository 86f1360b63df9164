import {
  checkId,
  checkMetadata,
  CommandType,
  createEnvelope,
  EventType,
  findUnstorableText,
  InvalidIdError,
  InvalidMetadataError,
  jsonTextIsStorable,
  MAX_METADATA_BYTES,
  QueryType,
  UnstorableTextError,
} from './index.js';

@CommandType('unit.checks.Ping')
class Ping {}

describe('ids', () => {
  it.each([
    ['a NUL', 'x\u0000', /U\+0000 at index 1/],
    ['a line break', 'a\r\nb', /U\+000D/],
    ['a Unicode line separator', 'a\u2028b', /U\+2028/],
    ['an unpaired surrogate', 'a\ud83d', /unpaired surrogate/],
    ['several kilobytes', 'k'.repeat(3000), /3000 characters; at most 256/],
    ['a leading space', ' id', /space/],
    ['nothing', '', /empty/],
  ])('refuses an id with %s', (_, id, reason) => {
    const error = (() => {
      try {
        return checkId(id, 'message id');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidIdError);
    expect((error as InvalidIdError).code).toBe('INVALID_ID');
    expect((error as Error).message).toMatch(reason);
    // The value is shown escaped and cut short, never raw.
    expect((error as Error).message.length).toBeLessThan(400);
    expect((error as Error).message).not.toContain('\u0000');
  });

  it('accepts what users put in ids: UUIDs, words, emails, colons, any script, emoji', () => {
    for (const id of [
      '0190a5c6-2f7b-7c3e-9a55-0a3c1d2e4f60',
      'payment-deadline:order-42',
      'ada@example.com',
      'заказ-7',
      'order 7 😀',
    ]) {
      expect(checkId(id, 'message id')).toBe(id);
    }
  });

  it('are checked when a message is sent with one', () => {
    expect(() =>
      createEnvelope(new Ping(), 'command', { id: 'x\u0000' }),
    ).toThrow(InvalidIdError);
  });

  it('and type names are checked when declared; command and query names must fit a NATS subject', () => {
    expect(() => EventType('unit.Bad\nName')).toThrow(InvalidIdError);
    expect(() => CommandType('unit.Place Order')).toThrow(/NATS subject/);
    expect(() => QueryType('unit..Orders')).toThrow(/NATS subject/);
    expect(() => QueryType('unit.Orders.>')).toThrow(/NATS subject/);
    expect(() => CommandType('')).toThrow(/empty/);
  });
});

describe('metadata given by users', () => {
  it.each([
    ['a string', 'abc'],
    ['an array', ['a']],
    ['a class instance', new Date()],
    ['null', null],
  ])('must be a plain object, not %s', (_, metadata) => {
    expect(() => checkMetadata(metadata)).toThrow(InvalidMetadataError);
    expect(() =>
      createEnvelope(new Ping(), 'command', {
        metadata: metadata as unknown as Record<string, unknown>,
      }),
    ).toThrow(/must be a plain object/);
  });

  it('must hold ids as correlationId and causationId', () => {
    expect(() => checkMetadata({ correlationId: { $ne: 1 } })).toThrow(
      InvalidIdError,
    );
    expect(() => checkMetadata({ causationId: 'c\n' })).toThrow(
      /causationId in metadata/,
    );
  });

  it('is bounded in size, and holds storable text', () => {
    expect(() =>
      checkMetadata({ blob: 'x'.repeat(MAX_METADATA_BYTES) }),
    ).toThrow(/at most 8192/);
    expect(() => checkMetadata({ who: 'a\u0000' })).toThrow(
      UnstorableTextError,
    );
    expect(() => checkMetadata({ 'k\u0000': 1 })).toThrow(/the key/);
    expect(checkMetadata({ userId: 'u-1', roles: ['a'] })).toEqual({
      userId: 'u-1',
      roles: ['a'],
    });
  });
});

describe('text PostgreSQL cannot store', () => {
  it('is found where it is, in values and in keys', () => {
    expect(findUnstorableText({ a: [{ b: 'x\u0000' }] })).toEqual({
      path: 'a[0].b',
      problem: 'a NUL character (\\u0000)',
    });
    expect(findUnstorableText({ a: '\udfff' })?.problem).toBe(
      'an unpaired surrogate',
    );
    expect(findUnstorableText({ ok: '😀', also: '\\u0000' })).toBeUndefined();
  });

  it('is spotted in JSON.stringify output without a false alarm on escaped backslashes', () => {
    const bad = [{ a: '\u0000' }, { a: '\ud800' }, { a: '\\\u0000' }];
    const fine = [
      { a: '\\u0000' },
      { a: '\\\\ud800' },
      { a: '😀' },
      { a: '\n' },
    ];
    for (const value of bad) {
      expect(jsonTextIsStorable(JSON.stringify(value))).toBe(false);
    }
    for (const value of fine) {
      expect(jsonTextIsStorable(JSON.stringify(value))).toBe(true);
    }
  });
});
