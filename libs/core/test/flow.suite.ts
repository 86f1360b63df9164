import {
  ChronicleHealthIndicator,
  EventStore,
  HandlersBusyError,
  TimeoutError,
  Transport,
  type ServedLoad,
} from '../src/index.js';
import { eventually } from './nats.js';
import { gate, HoldParcel } from './shipping.fixture.js';
import type { TestApp } from './transport-apps.js';

/** Backpressure limits of the app that handles HoldParcel. */
export interface FlowLimits {
  readonly maxConcurrentHandlers: number;
  readonly maxQueuedRequests: number;
}

/** A caller and a handler app (maybe one app) that reach each other only through the transport. */
export interface FlowPair {
  readonly caller: TestApp;
  readonly handler: TestApp;
  close(): Promise<void>;
}

/** How busy the handler app's HoldParcel subscription is. */
export function holdLoad(app: TestApp): ServedLoad {
  const load = app.app
    .get(Transport)
    .load()
    .find((l) => l.subject.endsWith('.command.ship.HoldParcel'));
  if (!load) throw new Error('This app does not serve ship.HoldParcel');
  return load;
}

/** Backpressure and deadlines on the serving side: the same on every transport. */
export function flowSuite(
  start: (limits: FlowLimits) => Promise<FlowPair>,
): void {
  let pair: FlowPair | undefined;

  beforeEach(() => gate.close());

  afterEach(async () => {
    gate.open();
    await pair?.close();
    pair = undefined;
  });

  it("does not start a handler whose caller's deadline passed while it waited", async () => {
    pair = await start({ maxConcurrentHandlers: 1, maxQueuedRequests: 10 });
    const { caller, handler } = pair;
    const first = caller.gateway.send(new HoldParcel('a'), {
      timeoutMs: 60_000,
    });
    await eventually(
      () => handler.ledger?.holding === 1,
      'the first holds the only handler',
    );
    const late = await caller.gateway
      .send(new HoldParcel('b'), { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TimeoutError);
    // It leaves the queue when its caller's time is up, not when a handler frees.
    await eventually(
      () => holdLoad(handler).expired === 1 && holdLoad(handler).queued === 0,
      'the waiting request expired',
    );

    gate.open();
    await expect(first).resolves.toBe('held a');
    await expect(caller.gateway.send(new HoldParcel('c'))).resolves.toBe(
      'held c',
    );
    expect(handler.ledger?.held).toEqual(['a', 'c']);
    const store = handler.app.get(EventStore);
    await expect(
      store.findHandledCommand((late as TimeoutError).messageId),
    ).resolves.toBeUndefined();
  });

  it('runs at most maxConcurrentHandlers at once, queues maxQueuedRequests, and refuses the rest unstarted', async () => {
    pair = await start({ maxConcurrentHandlers: 2, maxQueuedRequests: 1 });
    const { caller, handler } = pair;
    const taken = ['a', 'b', 'c'].map((id) =>
      caller.gateway.send(new HoldParcel(id), { timeoutMs: 60_000 }),
    );
    await eventually(
      () => holdLoad(handler).running === 2 && holdLoad(handler).queued === 1,
      'two run and one waits',
    );
    expect(
      handler.app.get(ChronicleHealthIndicator).checkTransport().transport,
    ).toMatchObject({
      served: { 'ship.HoldParcel': { running: 2, queued: 1 } },
    });
    // Full: every try is refused at once, and the caller stops when its time is up.
    const refused = await caller.gateway
      .send(new HoldParcel('d'), { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HandlersBusyError);
    expect(refused).toMatchObject({
      code: 'HANDLERS_BUSY',
      messageType: 'ship.HoldParcel',
    });
    expect(holdLoad(handler).refused).toBeGreaterThan(0);

    gate.open();
    await expect(Promise.all(taken)).resolves.toEqual([
      'held a',
      'held b',
      'held c',
    ]);
    expect(handler.ledger?.mostHeldAtOnce).toBe(2);
    expect([...(handler.ledger?.held ?? [])].sort()).toEqual(['a', 'b', 'c']);
  });
}
