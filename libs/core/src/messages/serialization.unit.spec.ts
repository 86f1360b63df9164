import 'reflect-metadata';
import {
  Exclude,
  instanceToPlain,
  plainToInstance,
  Type,
} from 'class-transformer';
import { fromPayload, toPayload } from './serialization.js';

class Plain {
  count = 0;
  constructor(
    readonly id?: string,
    readonly tags?: string[],
  ) {}
  get label(): string {
    return `#${this.id}`;
  }
  describe(): string {
    return `${this.id}:${this.count}`;
  }
}

class Child extends Plain {}

class WithDate {
  @Type(() => Date)
  at: Date;
}

class InheritsDate extends WithDate {}

const payload = () =>
  JSON.parse(
    '{"id":"a-1","count":3,"tags":["x"],"nested":{"deep":[1,2]},"label":"ignored","describe":"ignored"}',
  ) as Record<string, unknown>;

describe('fromPayload', () => {
  it('builds undecorated classes exactly as class-transformer does', () => {
    for (const target of [Plain, Child]) {
      const fields = payload();
      // class-transformer throws on an inherited getter-only key; we skip it (below).
      if (target === Child) delete fields.label;
      const fast = fromPayload(target, { ...fields });
      const reference = plainToInstance(target, { ...fields });
      expect(fast).toBeInstanceOf(target);
      expect(fast).toEqual(reference);
      expect(Object.keys(fast).sort()).toEqual(Object.keys(reference).sort());
      expect(fast.label).toBe('#a-1');
      expect(fast.describe()).toBe('a-1:3');
    }
  });

  it('never overwrites a getter or a method, inherited or not', () => {
    const built = fromPayload(Child, payload());
    expect(built.label).toBe('#a-1');
    expect(built.describe()).toBe('a-1:3');
  });

  it('ignores a __proto__ key off the wire', () => {
    const hostile = JSON.parse(
      '{"id":"a-2","__proto__":{"polluted":true}}',
    ) as object;
    const built = fromPayload(Plain, hostile);
    expect(Object.getPrototypeOf(built)).toBe(Plain.prototype);
    expect(
      (built as unknown as { polluted?: boolean }).polluted,
    ).toBeUndefined();
  });

  it('copies every key of payloads keyed by data, however many, and still guards the class', () => {
    class Keyed {
      get label(): string {
        return 'fixed';
      }
    }
    for (let round = 0; round < 3; round++) {
      const keys = Array.from({ length: 400 }, (_, i) => `k${round}-${i}`);
      const data = Object.fromEntries(keys.map((k, i) => [k, i]));
      const built = fromPayload(Keyed, { ...data, label: 'ignored' });
      expect(built).toBeInstanceOf(Keyed);
      expect({ ...built }).toEqual(plainToInstance(Keyed, data));
      expect(built.label).toBe('fixed');
    }
  });

  it('leaves decorated classes, and their subclasses, to class-transformer', () => {
    const at = '2026-11-26T07:00:00.000Z';
    expect(fromPayload(WithDate, { at }).at).toEqual(new Date(at));
    expect(fromPayload(InheritsDate, { at }).at).toEqual(new Date(at));
  });
});

class Secretive {
  constructor(
    readonly user: string,
    readonly token: string,
  ) {}
}
Exclude()(Secretive.prototype, 'token');

class Wrapper {
  constructor(readonly inner: Secretive) {}
}

describe('toPayload', () => {
  it('gives what instanceToPlain gives for plain data', () => {
    const message = new Plain('a-3', ['x', 'y']);
    message.count = 2;
    expect(toPayload(message)).toEqual(instanceToPlain(message));
    expect(toPayload(message)).not.toBe(message);
  });

  it('honours decorators, on the class and on nested instances', () => {
    expect(toPayload(new Secretive('ada', 's3cret'))).toEqual({ user: 'ada' });
    expect(toPayload(new Wrapper(new Secretive('ada', 's3cret')))).toEqual({
      inner: { user: 'ada' },
    });
  });
});
