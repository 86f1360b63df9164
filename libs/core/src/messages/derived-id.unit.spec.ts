import {
  Command,
  CommandType,
  assignedIdOf,
  createEnvelope,
  deriveMessageId,
  isFirstSend,
  MessageContext,
  type Envelope,
} from '../index.js';

@CommandType('derived.Ping')
class Ping extends Command<void> {}

const parent: Envelope = {
  id: '0190a0b0-0000-7000-8000-000000000001',
  type: 'derived.Parent',
  revision: 1,
  payload: {},
  metadata: { correlationId: 'c' },
  timestamp: new Date(0),
};

describe('derived message ids', () => {
  it('are the same for the same parent, handler, type and ordinal, and differ otherwise', () => {
    const id = deriveMessageId(parent.id, 'command:H', 'derived.Ping', 0);
    expect(deriveMessageId(parent.id, 'command:H', 'derived.Ping', 0)).toBe(id);
    expect(
      new Set([
        id,
        deriveMessageId(parent.id, 'command:H', 'derived.Ping', 1),
        deriveMessageId(parent.id, 'command:G', 'derived.Ping', 0),
        deriveMessageId(parent.id, 'command:H', 'derived.Pong', 0),
        deriveMessageId('another', 'command:H', 'derived.Ping', 0),
      ]).size,
    ).toBe(5);
  });

  it('number what a handler sends afresh on every run of it', () => {
    const run = () =>
      MessageContext.run(
        parent,
        () => [
          createEnvelope(new Ping(), 'command').id,
          createEnvelope(new Ping(), 'command').id,
        ],
        'command:H',
      );
    const first = run();
    expect(run()).toEqual(first);
    expect(first[0]).not.toBe(first[1]);
  });

  it('are kept by an instance sent again, and only a new id is a first send', () => {
    const ping = new Ping();
    const first = createEnvelope(ping, 'command');
    const again = createEnvelope(ping, 'command');
    expect(again.id).toBe(first.id);
    expect([isFirstSend(first), isFirstSend(again)]).toEqual([true, false]);
    const given = createEnvelope(new Ping(), 'command', { id: 'mine' });
    expect([given.id, isFirstSend(given)]).toEqual(['mine', false]);
  });

  it('stay with the instance sent, unseen, not with copies of it, frozen or not', () => {
    const ping = new Ping();
    const { id } = createEnvelope(ping, 'command');
    expect(assignedIdOf(ping)).toBe(id);
    const copy = Object.assign(new Ping(), ping);
    expect(assignedIdOf(copy)).toBeUndefined();
    expect(Reflect.ownKeys(ping)).toEqual([]);
    expect(JSON.stringify(ping)).toBe('{}');
    expect(createEnvelope(copy, 'command').id).not.toBe(id);

    const frozen = Object.freeze(new Ping());
    const first = createEnvelope(frozen, 'command');
    expect(createEnvelope(frozen, 'command').id).toBe(first.id);
    expect(assignedIdOf(frozen)).toBe(first.id);
  });
});
