import {
  Command,
  CommandType,
  assignedIdOf,
  createEnvelope,
  deferEnvelope,
  deriveMessageId,
  MessageContext,
  runHandling,
  type Envelope,
} from '../index.js';

@CommandType('deferred.Ping')
class Ping extends Command<void> {}

const parent: Envelope = {
  id: '0190a0b0-0000-7000-8000-000000000002',
  type: 'deferred.Parent',
  revision: 1,
  payload: {},
  metadata: { correlationId: 'c', tenant: 't1' },
  timestamp: new Date(0),
};

const timeOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe('an envelope made when first read', () => {
  it('is the envelope a send from outside any handling gets, with the time of the send', async () => {
    const ping = new Ping();
    const before = Date.now();
    const made = deferEnvelope(ping, 'command');
    const after = Date.now();
    expect(made.type).toBe('deferred.Ping');
    expect(assignedIdOf(ping)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 5));

    const { envelope } = made;
    expect(made.envelope).toBe(envelope);
    expect(made.firstSend).toBe(true);
    expect(assignedIdOf(ping)).toBe(envelope.id);
    expect(envelope).toMatchObject({
      type: 'deferred.Ping',
      revision: 1,
      payload: ping,
      metadata: { correlationId: envelope.id },
    });
    for (const ms of [timeOf(envelope.id), envelope.timestamp.getTime()]) {
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect(createEnvelope(ping, 'command').id).toBe(envelope.id);
  });

  it('gives every send of one instance its id, whichever is read first', () => {
    const ping = new Ping();
    const first = deferEnvelope(ping, 'command');
    const second = deferEnvelope(ping, 'command');
    const id = second.envelope.id;
    expect(first.envelope.id).toBe(id);
    expect([second.firstSend, first.firstSend]).toEqual([true, false]);
  });

  it('is made at once, with derived ids in the order of the sends, inside a handling', () => {
    const [a, b] = MessageContext.run(
      parent,
      () => [
        deferEnvelope(new Ping(), 'command'),
        deferEnvelope(new Ping(), 'command'),
      ],
      'command:H',
    );
    const ids = [b.envelope.id, a.envelope.id];
    expect(ids).toEqual([
      deriveMessageId(parent.id, 'command:H', 'deferred.Ping', 1),
      deriveMessageId(parent.id, 'command:H', 'deferred.Ping', 0),
    ]);
    expect(a.envelope.metadata).toEqual({
      tenant: 't1',
      correlationId: 'c',
      causationId: parent.id,
    });
  });

  it('is made at once from an id or metadata given', () => {
    const ping = new Ping();
    const made = deferEnvelope(ping, 'command', {
      id: 'given-1',
      metadata: { tenant: 't2' },
    });
    expect(assignedIdOf(ping)).toBe('given-1');
    expect(made.envelope.metadata).toEqual({
      tenant: 't2',
      correlationId: 'given-1',
    });
    expect(made.firstSend).toBe(false);
  });

  it('is the cause and correlation of what its handling sends', () => {
    const made = deferEnvelope(new Ping(), 'command');
    const [current, sent] = runHandling(
      { source: made, handler: 'command:H' },
      () => [MessageContext.current(), createEnvelope(new Ping(), 'command')],
    );
    const id = made.envelope.id;
    expect(current).toBe(made.envelope);
    expect(sent.id).toBe(deriveMessageId(id, 'command:H', 'deferred.Ping', 0));
    expect(sent.metadata).toEqual({ correlationId: id, causationId: id });
  });
});
