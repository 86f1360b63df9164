import { LocalTransport } from './local.transport.js';
import { errorSubject, subjectMatches } from '../subjects.js';
import { NoHandlerError } from '../transport.errors.js';
import type { WireMessage } from '../transport.js';
import { waitUntil } from '../../../test/wait-until.js';

const message = (id: string): WireMessage => ({
  headers: { 'Chronicle-Message-Id': id },
  body: '{}',
});

describe('subjects of published messages', () => {
  it('match as NATS matches them', () => {
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
    expect(errorSubject('ns', 'orders.PlaceOrder')).toBe(
      'chronicle.ns.error.orders.PlaceOrder',
    );
    expect(errorSubject('ns')).toBe('chronicle.ns.error.>');
  });
});

describe('LocalTransport.subscribe', () => {
  it('gives each published message to one member of each queue group whose subject matches', async () => {
    const transport = new LocalTransport();
    const got: string[] = [];
    const member = (name: string) => (m: WireMessage) => {
      got.push(`${name}:${m.headers['Chronicle-Message-Id']}`);
    };
    await transport.subscribe('chronicle.ns.error.>', 'alerts', member('a1'));
    await transport.subscribe('chronicle.ns.error.>', 'alerts', member('a2'));
    await transport.subscribe(
      'chronicle.ns.error.orders.PlaceOrder',
      'audit',
      member('b1'),
    );
    await transport.subscribe('chronicle.ns.error.other', 'audit', member('x'));
    for (const id of ['1', '2', '3', '4']) {
      await transport.publish(
        'chronicle.ns.error.orders.PlaceOrder',
        message(id),
      );
    }
    await waitUntil(() => got.length === 8, 'eight deliveries');
    const by = (prefix: string) =>
      got.filter((g) => g.startsWith(prefix)).map((g) => g.split(':')[1]);
    expect([...by('a1'), ...by('a2')].sort()).toEqual(['1', '2', '3', '4']);
    expect(by('a1').length).toBeGreaterThan(0);
    expect(by('a2').length).toBeGreaterThan(0);
    expect(by('b1')).toEqual(['1', '2', '3', '4']);
    expect(by('x')).toEqual([]);
    await transport.close();
  });

  it('refuses a message nobody subscribed to or serves, as a request would be', async () => {
    const transport = new LocalTransport();
    await expect(
      transport.publish('chronicle.ns.error.nobody', message('1')),
    ).rejects.toBeInstanceOf(NoHandlerError);
  });
});
