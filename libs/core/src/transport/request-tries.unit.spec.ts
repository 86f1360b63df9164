import { performance } from 'node:perf_hooks';
import { requestUntilTaken } from './request-tries.js';
import { HandlersBusyError, TimeoutError } from './transport.errors.js';
import type { WireMessage } from './transport.js';
import { HEADER } from './wire-format.js';

const request: WireMessage = {
  headers: { [HEADER.id]: 'm-1', [HEADER.type]: 'ship.HoldParcel' },
  body: '{}',
};
const busy: WireMessage = { headers: { [HEADER.refused]: 'busy' }, body: '' };

/** Holds the event loop, as a loaded machine does. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('requestUntilTaken', () => {
  it('reports busy, without another try, when the pause after a refusal ends past the caller’s time', async () => {
    const tries: number[] = [];
    const error = await requestUntilTaken(
      request,
      { timeoutMs: 40, messageType: 'ship.HoldParcel' },
      async (_message, timeoutMs) => {
        tries.push(timeoutMs);
        // The pause that follows this refusal ends late: the loop is held.
        setTimeout(() => block(60), 0);
        return busy;
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlersBusyError);
    expect(tries).toHaveLength(1);
  });

  it('reports a timeout when the receiver says the caller’s deadline passed before its own timer fired', async () => {
    // Both sides count the same time; on a busy loop the receiver's expiry
    // reply may arrive first. The caller sees one outcome either way.
    const expired: WireMessage = {
      headers: { [HEADER.refused]: 'deadline', [HEADER.status]: 'error' },
      body: JSON.stringify({ code: 'DEADLINE_EXCEEDED', message: 'x' }),
    };
    const error = await requestUntilTaken(
      request,
      { timeoutMs: 200, messageType: 'ship.HoldParcel' },
      () => Promise.resolve(expired),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({
      messageType: 'ship.HoldParcel',
      messageId: 'm-1',
      timeoutMs: 200,
    });
  });
});
