import { waitUntil } from '../../../libs/core/test/wait-until.js';
import type { FaultProcess } from './support/fault-process.js';
import { NatsCluster, type NatsServer } from './support/nats-server.js';
import { came, Scenario } from './support/scenario.js';
import {
  failuresWithoutMessageId,
  handledAfter,
  lastPosition,
  type Tally,
} from './support/tally.js';

// Three routed nats-servers on loopback. Two instances of the handler app
// and two callers are spread over them; the node that holds one handler and
// one caller is killed (SIGKILL) under load. Each app is given only its own
// node's URL, so where it starts is known; it learns the other nodes from the
// cluster (NATS gossips them to clients) and fails over to one of them.
describe('fault: a node of a three-node NATS cluster killed under load', () => {
  const scenario = new Scenario();
  let cluster: NatsCluster;
  let apps: FaultProcess[];
  let callers: FaultProcess[];
  let figures: Tally;
  const placedOn: Record<string, number> = {};
  const movedTo: Record<string, number> = {};
  const flowed: Record<string, boolean> = {};
  let down: string[] = [];
  let servedAgain = false;

  const nodeIndex = async (name: string): Promise<number> => {
    const node = await cluster.nodeOf(name);
    return node ? cluster.nodes.indexOf(node) : -1;
  };

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    const [a, b, c] = cluster.nodes as [NatsServer, NatsServer, NatsServer];
    const handlers = await Promise.all([
      scenario.handler({ name: 'entries-a', servers: a.url }),
      scenario.handler({ name: 'entries-b', servers: b.url }),
    ]);
    const load = { WORKERS: '3', TIMEOUT_MS: '3000' };
    callers = await Promise.all([
      scenario.load({ ...load, name: 'caller-a', servers: a.url }),
      scenario.load({ ...load, name: 'caller-c', servers: c.url }),
    ]);
    apps = [...handlers, ...callers];
    for (const app of apps) placedOn[app.name] = await nodeIndex(app.name);
    const before = await Promise.all(
      callers.map((caller) => caller.acknowledgedMore(0, 50)),
    );

    const mark = await lastPosition(scenario.handlerSchema);
    await a.kill();
    for (const [i, caller] of callers.entries()) {
      flowed[caller.name] = await came(
        caller.acknowledgedMore(before[i], 100, 20_000),
      );
    }
    for (const name of ['entries-a', 'caller-a']) {
      await came(
        waitUntil(async () => (await nodeIndex(name)) > 0, `${name} moved`),
      );
      movedTo[name] = await nodeIndex(name);
    }
    // The moved handler is back in the queue group: it takes commands again.
    servedAgain = await came(
      waitUntil(
        async () =>
          ((await handledAfter(scenario.handlerSchema, mark))['entries-a'] ??
            0) >= 10,
        'entries-a handled ten commands after the kill',
      ),
    );
    // Before the tally: the load processes exit once they have reported.
    down = apps.filter((app) => !app.alive).map((app) => app.name);
    figures = await scenario.tally(
      'one node of a three-node NATS cluster killed under load',
      callers,
    );
  }, 150_000);

  afterAll(async () => {
    await scenario.dispose();
    await cluster?.dispose();
  });

  it('starts with the apps on different nodes', () => {
    expect(placedOn).toEqual({
      'entries-a': 0,
      'entries-b': 1,
      'caller-a': 0,
      'caller-c': 2,
    });
  });

  it('keeps commands flowing from both callers after the kill', () => {
    expect(flowed).toEqual({ 'caller-a': true, 'caller-c': true });
  });

  it("moves the killed node's apps to another node, with no app restarted", () => {
    expect(movedTo['entries-a']).toBeGreaterThan(0);
    expect(movedTo['caller-a']).toBeGreaterThan(0);
    expect(servedAgain).toBe(true);
    expect(down).toEqual([]);
  });

  it('loses and duplicates no acknowledged command', () => {
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

  // Issue 12, points 3 and 20: the error names the id to resend with.
  it('names the command id in every error the callers saw', () => {
    expect(failuresWithoutMessageId(figures)).toEqual({});
  });
});
