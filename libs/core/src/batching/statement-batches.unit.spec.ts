import { StatementBatches } from './statement-batches.js';

/** A statement that returns when the test says so. */
function gatedSend() {
  const sent: (readonly number[])[] = [];
  const gates: (() => void)[] = [];
  const send = (batch: readonly number[]) => {
    sent.push([...batch]);
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  const open = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { sent, send, open };
}

describe('StatementBatches', () => {
  it('sends a lone item at once, and what arrives meanwhile as the next batch', async () => {
    const { sent, send, open } = gatedSend();
    const batches = new StatementBatches(send, 100);
    batches.add(1);
    expect(sent).toEqual([[1]]);
    batches.add(2);
    batches.add(3);
    expect(batches.pending).toEqual([1, 2, 3]);
    await open();
    expect(sent).toEqual([[1], [2, 3]]);
    await open();
    await batches.drain();
    expect(batches.size).toBe(0);
  });

  it('puts at most max items in one batch', async () => {
    const { sent, send, open } = gatedSend();
    const batches = new StatementBatches(send, 2);
    for (const n of [1, 2, 3, 4, 5]) batches.add(n);
    for (let i = 0; i < 3; i++) await open();
    expect(sent).toEqual([[1], [2, 3], [4, 5]]);
  });
});
