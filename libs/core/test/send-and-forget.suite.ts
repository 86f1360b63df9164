import {
  EventStore,
  NotACommandError,
  Scheduler,
  sendScheduleId,
  ValidationError,
} from '../src/index.js';
import { freshSchema } from './databases.js';
import { eventually } from './nats.js';
import { CountParcels, ForwardParcel, ShipParcel } from './shipping.fixture.js';
import type { TestApp } from './transport-apps.js';

/** Starts an app on the store of `schema`: with the shipping handlers, or only sending. */
export type StartSendingApp = (options: {
  readonly instance: string;
  readonly handlers: boolean;
  readonly schema: string;
}) => Promise<TestApp>;

/** What `sendAndForget` guarantees, the same embedded and on PostgreSQL with NATS. */
export function sendAndForgetSuite(start: StartSendingApp): void {
  const opened: TestApp[] = [];
  const open = async (options: Parameters<StartSendingApp>[0]) => {
    const app = await start(options);
    opened.push(app);
    return app;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  /** Whether the command's row is gone and its outcome recorded. */
  const delivered = async (app: TestApp, id: string) =>
    (await app.app.get(Scheduler).get(sendScheduleId(id))) === undefined &&
    (await app.app.get(EventStore).findHandledCommand(id)) !== undefined;

  it('keeps a command sent while no handler is online, and a handler instance starting later handles it once', async () => {
    const schema = freshSchema('sf');
    const sender = await open({ instance: 'sender', handlers: false, schema });
    const id = await sender.gateway.sendAndForget(new ShipParcel('p-1', 1));
    await expect(
      sender.app.get(Scheduler).get(sendScheduleId(id)),
    ).resolves.toMatchObject({ kind: 'send', type: 'ship.ShipParcel' });

    // Two handler instances start: one of them takes it.
    const [one, two] = await Promise.all([
      open({ instance: 'one', handlers: true, schema }),
      open({ instance: 'two', handlers: true, schema }),
    ]);
    await eventually(() => delivered(sender, id), 'the command was handled');
    expect((one.ledger?.shipped ?? 0) + (two.ledger?.shipped ?? 0)).toBe(1);
  });

  it('sends a command again with the same id to no second effect', async () => {
    const schema = freshSchema('sf');
    const app = await open({ instance: 'one', handlers: true, schema });
    const id = '01J9ZQ3V6G00000000000000SF';
    await app.gateway.sendAndForget(new ShipParcel('p-2', 1), { id });
    await app.gateway.sendAndForget(new ShipParcel('p-2', 1), { id });
    await eventually(() => delivered(app, id), 'the command was handled');
    expect(app.ledger?.shipped).toBe(1);
  });

  it('sends nothing from a handler whose unit of work rolls back, and sends with the commit otherwise', async () => {
    const handler = await open({
      instance: 'handler',
      handlers: true,
      schema: freshSchema('sf'),
    });
    await expect(
      handler.commands.execute(new ForwardParcel('p-3', true)),
    ).rejects.toMatchObject({ message: 'not forwarding p-3' });
    const [rolledBack] = handler.ledger?.forwarded ?? [];
    expect(rolledBack).toEqual(expect.any(String));
    await expect(
      handler.app.get(Scheduler).get(sendScheduleId(rolledBack)),
    ).resolves.toBeUndefined();

    const sent = await handler.commands.execute(
      new ForwardParcel('p-4', false),
    );
    await eventually(
      () => delivered(handler, sent),
      'the forwarded command was handled',
    );
    expect(handler.ledger?.shipped).toBe(1);
    await expect(
      handler.app.get(EventStore).findHandledCommand(rolledBack),
    ).resolves.toBeUndefined();
  });

  it('refuses at once what it could never deliver: an invalid command, a query', async () => {
    const sender = await open({
      instance: 'sender',
      handlers: false,
      schema: freshSchema('sf'),
    });
    await expect(
      sender.gateway.sendAndForget(new ShipParcel('', 1)),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      sender.gateway.sendAndForget(new CountParcels()),
    ).rejects.toBeInstanceOf(NotACommandError);
  });
}
