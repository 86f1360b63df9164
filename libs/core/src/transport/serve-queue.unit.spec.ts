import { HandlersBusyError } from './transport.errors.js';
import type { WireMessage } from './transport.js';
import { requestUntilTaken } from './request-tries.js';
import { ServeQueue } from './serve-queue.js';
import { HEADER } from './wire-format.js';

const request = (id: string, timeoutMs?: number): WireMessage => ({
  headers: {
    [HEADER.id]: id,
    [HEADER.type]: 't.Hold',
    ...(timeoutMs === undefined
      ? {}
      : { [HEADER.timeoutMs]: String(timeoutMs) }),
  },
  body: '{}',
});
const ok = (body: string): WireMessage => ({
  headers: { [HEADER.status]: 'ok' },
  body,
});

/** A listener whose replies the test releases, one request id at a time. */
function heldListener() {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const listener = (message: WireMessage) => {
    const id = message.headers[HEADER.id];
    started.push(id);
    return new Promise<WireMessage>((resolve) =>
      release.set(id, () => resolve(ok(id))),
    );
  };
  return { started, release, listener };
}

describe('ServeQueue', () => {
  it('runs up to its limit, keeps the next ones waiting in order, and refuses the rest unstarted', async () => {
    const { started, release, listener } = heldListener();
    const queue = new ServeQueue('s', listener, {
      maxConcurrent: 1,
      maxQueued: 1,
    });
    const a = queue.offer(request('a'), true);
    const b = queue.offer(request('b'), true);
    const c = await queue.offer(request('c'), true);
    expect(started).toEqual(['a']);
    expect(c.headers[HEADER.refused]).toBe('busy');
    expect(c.headers[HEADER.status]).toBe('error');
    expect(JSON.parse(c.body)).toMatchObject({ code: 'HANDLERS_BUSY' });
    expect(queue.load()).toEqual({
      subject: 's',
      running: 1,
      queued: 1,
      refused: 1,
      expired: 0,
    });

    release.get('a')?.();
    await expect(a).resolves.toEqual(ok('a'));
    expect(started).toEqual(['a', 'b']);
    release.get('b')?.();
    await expect(b).resolves.toEqual(ok('b'));
    expect(queue.load()).toMatchObject({ running: 0, queued: 0 });
  });

  it('does not start a request whose caller had no time left', async () => {
    const { started, listener } = heldListener();
    const queue = new ServeQueue('s', listener);
    const reply = await queue.offer(request('a', 0), true);
    expect(started).toEqual([]);
    expect(reply.headers[HEADER.refused]).toBe('deadline');
    expect(JSON.parse(reply.body)).toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    expect(queue.load()).toMatchObject({ expired: 1 });
  });
});

describe('requestUntilTaken', () => {
  const busy: WireMessage = {
    headers: { [HEADER.status]: 'error', [HEADER.refused]: 'busy' },
    body: '{}',
  };

  it('tries again after a busy refusal, each try carrying the time the caller still waits', async () => {
    const sent: WireMessage[] = [];
    const replies = [busy, busy, ok('done')];
    const reply = await requestUntilTaken(
      request('a'),
      { timeoutMs: 60_000, messageType: 't.Hold' },
      async (message) => {
        sent.push(message);
        return replies.shift() as WireMessage;
      },
    );
    expect(reply).toEqual(ok('done'));
    const left = sent.map((m) => Number(m.headers[HEADER.timeoutMs]));
    expect(left).toHaveLength(3);
    expect(left[0]).toBe(60_000);
    expect(left[2]).toBeLessThanOrEqual(left[1]);
    expect(left[1]).toBeLessThanOrEqual(left[0]);
  });

  it('fails with HandlersBusyError, naming the message, when every try until the timeout was refused', async () => {
    const error = await requestUntilTaken(
      request('a'),
      { timeoutMs: 50, messageType: 't.Hold' },
      async () => busy,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlersBusyError);
    expect(error).toMatchObject({ messageType: 't.Hold', messageId: 'a' });
  });
});
