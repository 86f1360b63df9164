import type { AppendedTypes } from '../store/index.js';
import { LocalTransport } from './local/local.transport.js';
import {
  MAX_RELAYED_TYPES,
  readWakeBody,
  RelayedAppendSignal,
} from './relayed-append-signal.js';

describe('RelayedAppendSignal', () => {
  async function relayed(): Promise<{
    signal: RelayedAppendSignal;
    heard: AppendedTypes[];
    bodies: string[];
  }> {
    const transport = new LocalTransport();
    const bodies: string[] = [];
    await transport.onBroadcast('events', (body) => bodies.push(body));
    const signal = await RelayedAppendSignal.start(transport, 'events');
    const heard: AppendedTypes[] = [];
    signal.subscribe((types) => heard.push(types));
    return { signal, heard, bodies };
  }

  it('sends the distinct types appended', async () => {
    const { signal, heard, bodies } = await relayed();
    signal.notify(['a.A', 'a.B', 'a.A']);
    expect(bodies).toEqual(['{"types":["a.A","a.B"]}']);
    // Heard once from this process, once relayed back by the transport.
    expect(heard).toEqual([
      ['a.A', 'a.B'],
      ['a.A', 'a.B'],
    ]);
  });

  it('sends "unknown" (no body) for too many types, or none given', async () => {
    const { signal, heard, bodies } = await relayed();
    const many = Array.from(
      { length: MAX_RELAYED_TYPES + 1 },
      (_, i) => `t.E${i}`,
    );
    signal.notify(many);
    signal.notify();
    expect(bodies).toEqual(['', '']);
    expect(heard).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads an empty or unreadable body as unknown types', () => {
    expect(readWakeBody('')).toBeUndefined();
    expect(readWakeBody('not json')).toBeUndefined();
    expect(readWakeBody('{"types":[1]}')).toBeUndefined();
    expect(readWakeBody('{"types":"a.A"}')).toBeUndefined();
    expect(readWakeBody('null')).toBeUndefined();
    expect(readWakeBody('{"types":["a.A"]}')).toEqual(['a.A']);
  });
});
