import { waitUntil } from '../../../libs/core/test/wait-until.js';
import type { FaultProcess } from './support/fault-process.js';
import { NatsServer } from './support/nats-server.js';
import { came, Scenario } from './support/scenario.js';
import { failuresWithoutMessageId, type Tally } from './support/tally.js';
import { secret } from '../../../libs/core/test/secret-watch.js';

const TOKEN = secret('before-rotation');

/** How many times the server refused a client's credentials so far. */
const authErrors = (server: NatsServer): number =>
  server.log.join('').match(/Authorization Violation|authentication error/gi)
    ?.length ?? 0;

// The server is restarted with a token the apps do not have (a rotation gone
// wrong), held there while the apps keep trying, then restored. The apps are
// never restarted: they must find their way back by themselves.
describe('fault: NATS restarted with changed credentials, then restored', () => {
  const scenario = new Scenario();
  let server: NatsServer;
  let handler: FaultProcess;
  let load: FaultProcess;
  let figures: Tally;
  let stayedUp = { handler: false, caller: false };
  const observed = { acknowledgedWhileWrong: -1, failedWhileWrong: 0 };
  let refusedAgain = false;
  let recovered = false;

  beforeAll(async () => {
    server = await NatsServer.start({ auth: { token: TOKEN } });
    const app = { servers: server.url, token: TOKEN };
    handler = await scenario.handler({ ...app, name: 'entries' });
    load = await scenario.load({
      ...app,
      name: 'caller',
      WORKERS: '4',
      TIMEOUT_MS: '3000',
      FINAL_MS: '5000',
    });
    const before = await load.acknowledgedMore(0, 50);

    await server.restartWith({ token: 'rotated' });
    // Long enough for each app to be refused several times: the NATS client
    // used to give up for good after two identical auth errors (point 19).
    refusedAgain = await came(
      waitUntil(
        () => authErrors(server) >= 6,
        'both apps refused at least three times each',
        15_000,
      ),
    );
    process.stdout.write(
      `  the server refused the apps' token ${authErrors(server)} times\n`,
    );
    const from = load.progress();
    await came(
      waitUntil(
        () => load.progress().failed >= from.failed + 10,
        'ten more failed sends while the token is wrong',
        15_000,
      ),
    );
    observed.acknowledgedWhileWrong =
      load.progress().acknowledged - from.acknowledged;
    observed.failedWhileWrong = load.progress().failed - from.failed;

    await server.restartWith({ token: TOKEN });
    recovered = await came(
      load.acknowledgedMore(Math.max(before, from.acknowledged), 50, 15_000),
    );
    // Before the tally: the load process exits once it has reported.
    stayedUp = { handler: handler.alive, caller: load.alive };
    // Point 19 asks the apps to log the refusal: shown here, for the reader.
    process.stdout.write(
      `  what the apps logged about NATS:\n${scenario
        .logged(/nats|auth/i)
        .slice(0, 10)
        .join('\n')}\n`,
    );
    figures = await scenario.tally(
      'NATS restarted with a rotated token, then the old one restored',
      [load],
    );
  }, 120_000);

  afterAll(async () => {
    await scenario.dispose();
    await server?.dispose();
  });

  it('fails the sends while the token is wrong', () => {
    expect(observed.failedWhileWrong).toBeGreaterThanOrEqual(10);
    expect(observed.acknowledgedWhileWrong).toBe(0);
  });

  // Issue 12, point 19: reconnects never give up, whatever the server says.
  it('keeps trying, and works again after the restore with no app restarted', () => {
    expect(refusedAgain).toBe(true);
    expect(recovered).toBe(true);
    expect(stayedUp).toEqual({
      handler: true,
      caller: true,
    });
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
