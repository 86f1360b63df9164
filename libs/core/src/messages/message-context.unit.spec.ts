import { AsyncLocalStorage } from 'node:async_hooks';
import type { Envelope } from './envelope.js';
import { MessageContext, unitOfWorkContext } from './message-context.js';

const envelope = (id: string): Envelope => ({
  id,
  type: 'context.Test',
  revision: 1,
  payload: {},
  metadata: { correlationId: id },
  timestamp: new Date(0),
});

const parent = envelope('0190a0b0-0000-7000-8000-000000000001');

describe('the unit of work carried with the message context', () => {
  it('is seen only by the UnitOfWork that opened it, through nested ones of others', () => {
    const mine = unitOfWorkContext<{ name: string }>();
    const theirs = unitOfWorkContext<{ name: string }>();
    const outer = { name: 'outer' };
    const other = { name: 'other' };
    const seen = mine.run(outer, () =>
      theirs.run(other, () => [mine.getStore(), theirs.getStore()]),
    );
    expect(seen).toEqual([outer, other]);
    expect([mine.getStore(), theirs.getStore()]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('keeps the running handling, and its ordinals, when opened inside it', () => {
    const scopes = unitOfWorkContext<object>();
    const ids = MessageContext.run(
      parent,
      () => {
        const first = MessageContext.nextDerivedId('context.Sent');
        const inside = scopes.run({}, () => [
          MessageContext.current(),
          MessageContext.nextDerivedId('context.Sent'),
        ]);
        return [first, ...inside];
      },
      'command:H',
    );
    expect(ids[1]).toBe(parent);
    expect(ids[0]).not.toBe(ids[2]);
    const again = MessageContext.run(
      parent,
      () => [
        MessageContext.nextDerivedId('context.Sent'),
        MessageContext.nextDerivedId('context.Sent'),
      ],
      'command:H',
    );
    expect(again).toEqual([ids[0], ids[2]]);
  });

  it('opens a handling with it in one go, as MessageContext.run would', () => {
    const scopes = unitOfWorkContext<object>();
    const scope = {};
    const [current, derived, inScope] = scopes.run(
      scope,
      () => [
        MessageContext.current(),
        MessageContext.nextDerivedId('context.Sent'),
        scopes.getStore(),
      ],
      { source: { envelope: parent }, handler: 'command:H' },
    );
    const expected = MessageContext.run(
      parent,
      () => MessageContext.nextDerivedId('context.Sent'),
      'command:H',
    );
    expect([current, derived, inScope]).toEqual([parent, expected, scope]);
  });

  it('stays the same in a handling nested in it, and no handling means no derived ids', () => {
    const scopes = unitOfWorkContext<object>();
    const scope = {};
    const seen = scopes.run(scope, () => [
      MessageContext.current(),
      MessageContext.nextDerivedId('context.Sent'),
      MessageContext.run(parent, () => scopes.getStore(), 'events-handler'),
    ]);
    expect(seen).toEqual([undefined, undefined, scope]);
  });

  it("keeps the caller's other async-local stores, inside and across awaits, and ends with the handling", async () => {
    const theirs = new AsyncLocalStorage<string>();
    const scopes = unitOfWorkContext<object>();
    const scope = {};
    const seen = await theirs.run('request-1', async () => {
      const handled = scopes.run(
        scope,
        async () => {
          const before = [theirs.getStore(), MessageContext.current()];
          await new Promise((resolve) => setImmediate(resolve));
          return [
            ...before,
            theirs.getStore(),
            MessageContext.current(),
            scopes.getStore(),
          ];
        },
        { source: { envelope: parent }, handler: 'command:H' },
      );
      // The caller goes on outside the handling while it runs.
      const outside = [
        theirs.getStore(),
        MessageContext.current(),
        scopes.getStore(),
      ];
      return [...(await handled), ...outside, theirs.getStore()];
    });
    expect(seen).toEqual([
      'request-1',
      parent,
      'request-1',
      parent,
      scope,
      'request-1',
      undefined,
      undefined,
      'request-1',
    ]);
    expect([theirs.getStore(), MessageContext.current()]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('ends a handling that throws, leaving the caller as it was', () => {
    expect(() =>
      MessageContext.run(
        parent,
        () => {
          throw new Error('handler failed');
        },
        'command:H',
      ),
    ).toThrow('handler failed');
    expect(MessageContext.current()).toBeUndefined();
    expect(MessageContext.nextDerivedId('context.Sent')).toBeUndefined();
  });
});
