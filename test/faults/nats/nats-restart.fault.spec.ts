import { NatsServer } from './support/nats-server.js';
import type { FaultProcess } from './support/fault-process.js';
import { came, Scenario } from './support/scenario.js';
import {
  failuresWithCode,
  failuresWithoutMessageId,
  type Tally,
} from './support/tally.js';

// A NATS server of the test's own is stopped gracefully, then killed, while a
// caller process sends commands to a handler process through it. Every send
// that fails is sent again with the same id, until it is acknowledged.
describe('fault: NATS restarted under command load', () => {
  const scenario = new Scenario();
  let server: NatsServer;
  let handler: FaultProcess;
  let load: FaultProcess;
  let figures: Tally;
  let stayedUp = { handler: false, caller: false };
  const recovered: boolean[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
    handler = await scenario.handler({ name: 'entries', servers: server.url });
    load = await scenario.load({
      name: 'caller',
      servers: server.url,
      WORKERS: '4',
      TIMEOUT_MS: '3000',
    });
    let acknowledged = await load.acknowledgedMore(0, 100);
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await server.restart(signal);
      recovered.push(await came(load.acknowledgedMore(acknowledged, 100)));
      acknowledged = load.progress().acknowledged;
    }
    // Before the tally: the load process exits once it has reported.
    stayedUp = { handler: handler.alive, caller: load.alive };
    figures = await scenario.tally(
      'NATS restarted (SIGTERM, then SIGKILL) under command load',
      [load],
    );
  }, 120_000);

  afterAll(async () => {
    await scenario.dispose();
    await server?.dispose();
  });

  it('commands flow again after each restart, with no app restarted', () => {
    expect(recovered).toEqual([true, true]);
    expect(stayedUp).toEqual({
      handler: true,
      caller: true,
    });
  });

  it('loses and duplicates no acknowledged command', () => {
    expect(figures.attempted).toBeGreaterThanOrEqual(300);
    expect({
      lost: figures.lost,
      duplicated: figures.duplicated,
      unacknowledged: figures.unacknowledged,
      strays: figures.strays,
      wrongAnswers: figures.wrongAnswers,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      unacknowledged: 0,
      strays: 0,
      wrongAnswers: 0,
    });
    expect(figures.acknowledged).toBe(figures.attempted);
    expect(figures.stored).toBe(figures.attempted);
  });

  // Issue 12, point 20: a request out when the connection dropped is in doubt,
  // said at once; it does not wait out its timeout (3 s here, while the
  // handler answers in milliseconds and NATS is back in well under a second).
  it('fails requests in flight at the drop at once as in doubt, not by timeout', () => {
    expect(failuresWithCode(figures, 'TIMEOUT')).toBe(0);
    expect(failuresWithCode(figures, 'IN_DOUBT')).toBeGreaterThan(0);
  });

  // Issue 12, points 3 and 20: the error names the id to resend with.
  it('names the command id in every error the callers saw', () => {
    expect(figures.resent).toBeGreaterThan(0);
    expect(failuresWithoutMessageId(figures)).toEqual({});
  });
});
