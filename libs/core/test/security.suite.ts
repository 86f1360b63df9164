import type { INestApplicationContext } from '@nestjs/common';
import {
  CommandBus,
  CurrentUser,
  EventStore,
  ForbiddenError,
  MessageGateway,
  MessageLogWriter,
  QueryBus,
  type PostgresEventStore,
  Scheduler,
  UnauthenticatedError,
  type StoredEvent,
  type User,
} from '../src/index.js';
import {
  Motd,
  OpenVault,
  Ping,
  PlanReminders,
  Sweep,
  VaultWitness,
  watchdogSeen,
  WhoAmI,
} from './security.fixture.js';
import { waitUntil } from './wait-until.js';

/** The apps of one run: where the test sends from, and where the vault's handlers run (the same app in process). */
export interface SecurityApps {
  readonly caller: INestApplicationContext;
  readonly server: INestApplicationContext;
}

const ann: User = { id: 'ann', roles: ['admin', 'auditor'] };
const bob: User = { id: 'bob', roles: ['ops'] };
const eve: User = { id: 'eve', roles: ['guest'] };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * Users and roles as a caller and the serving app see them, under
 * `security.requireUser: true`: refusals reach the caller as their class,
 * and what an allowed command causes carries its user.
 */
export function securitySuite(apps: () => SecurityApps): void {
  const send = <R>(user: User | undefined, fn: () => Promise<R>) => {
    const current = apps().caller.get(CurrentUser);
    return user === undefined ? fn() : current.runAs(user, fn);
  };
  const commands = () => apps().caller.get(CommandBus);
  const queries = () => apps().caller.get(QueryBus);
  const witness = () => apps().server.get(VaultWitness);

  it('refuses a command without a user with UnauthenticatedError on the caller', async () => {
    const refusal = commands().execute(new OpenVault('v-anon'));
    await expect(refusal).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(refusal).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringContaining('sec.OpenVault needs a user'),
    });
    expect(
      await apps().server.get(EventStore).streamVersion('sec.Vault-v-anon'),
    ).toBe(0);
  });

  it('refuses a user without the role with ForbiddenError naming the roles and the user', async () => {
    const refusal = send(eve, () => commands().execute(new OpenVault('v-eve')));
    await expect(refusal).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refusal).rejects.toMatchObject({
      code: 'FORBIDDEN',
      userId: 'eve',
      requiredRoles: ['admin', 'ops'],
      message:
        'User eve may not have sec.OpenVault handled: it needs one of the roles admin, ops.',
    });
    expect(
      await apps().server.get(EventStore).streamVersion('sec.Vault-v-eve'),
    ).toBe(0);
  });

  it('runs a command for a user with one of the roles; its events, the commands it sends and a consumer see the user', async () => {
    // bob (ops) may open a vault, but is no auditor: the audit passes his event over.
    expect(
      await send(bob, () => commands().execute(new OpenVault('v-bob'))),
    ).toBe('bob');
    expect(
      await send(ann, () => commands().execute(new OpenVault('v-ann'))),
    ).toBe('ann');

    const [opened] = await collect<StoredEvent>(
      apps().server.get(EventStore).readStream('sec.Vault-v-ann'),
    );
    expect(opened.metadata.user).toEqual({
      id: 'ann',
      roles: ['admin', 'auditor'],
    });
    expect(witness().notes).toEqual(
      expect.arrayContaining([
        { vaultId: 'v-ann', user: { id: 'ann', roles: ['admin', 'auditor'] } },
        { vaultId: 'v-bob', user: { id: 'bob', roles: ['ops'] } },
      ]),
    );
    // One segment reads in commit order: once ann's event is audited, bob's was passed over.
    await waitUntil(
      () => witness().audited.some((a) => a.vaultId === 'v-ann'),
      "the audit to see ann's opening",
    );
    expect(witness().audited).toEqual([
      { vaultId: 'v-ann', user: { id: 'ann', roles: ['admin', 'auditor'] } },
    ]);
    // The refusal became an error message, caused by bob's event, handed to no retry.
    const [bobs] = await collect<StoredEvent>(
      apps().server.get(EventStore).readStream('sec.Vault-v-bob'),
    );
    await apps().server.get(MessageLogWriter).flush();
    const store = apps().server.get(EventStore) as PostgresEventStore;
    const errors = await store.client.query<{ error_code: string }>(
      `SELECT error_code FROM ${store.schema.messageLog}
        WHERE kind = 'error' AND causation_id = $1`,
      [bobs.id],
    );
    expect(errors).toEqual([{ error_code: 'FORBIDDEN' }]);
  });

  it('answers a @Public handler without a user, also when its message class asks for a role', async () => {
    expect(await queries().execute(new Ping())).toBe('pong');
    expect(await queries().execute(new Motd())).toBe('welcome');
    await expect(queries().execute(new WhoAmI())).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    expect(await send(bob, () => queries().execute(new WhoAmI()))).toEqual(bob);
  });

  it('refuses a user the provider cannot read, typed, whatever the metadata claims', async () => {
    const gateway = apps().caller.get(MessageGateway);
    for (const user of ['ann', { id: '' }, { id: 'mallory', roles: 'admin' }]) {
      const refusal = gateway.send(new OpenVault('v-forged'), {
        metadata: { user },
      });
      await expect(refusal).rejects.toBeInstanceOf(UnauthenticatedError);
      await expect(refusal).rejects.toMatchObject({ reason: 'unreadable' });
    }
    expect(
      await apps().server.get(EventStore).streamVersion('sec.Vault-v-forged'),
    ).toBe(0);
  });

  it('delivers a schedule as the user that scheduled it; a refused delivery is dead at once', async () => {
    await send(ann, () => commands().execute(new PlanReminders('v-plan')));
    await waitUntil(
      () => witness().reminded.some((r) => r.vaultId === 'v-plan'),
      'the reminder to be delivered',
    );
    expect(witness().reminded).toEqual([
      { vaultId: 'v-plan', user: { id: 'ann', roles: ['admin', 'auditor'] } },
    ]);

    const scheduler = apps().server.get(Scheduler);
    await waitUntil(
      async () => (await scheduler.get('lockdown-v-plan'))?.status === 'dead',
      'the lockdown to be refused',
    );
    const dead = await scheduler.get('lockdown-v-plan');
    // Refused once, not retried up to maxAttempts: the same user would be refused again.
    expect(dead).toMatchObject({ attempts: 1, type: 'sec.Lockdown' });
    expect(dead?.lastError).toContain(
      'ForbiddenError: User ann may not have sec.Lockdown handled',
    );
    expect(witness().lockdowns).toEqual([]);
  });

  it("runs a process manager's commands and deadlines as the user of the event that started it", async () => {
    await send(ann, () => commands().execute(new OpenVault('v-watch')));
    await waitUntil(
      () =>
        witness().seals.some((s) => s.vaultId === 'v-watch') &&
        watchdogSeen.some((s) => s.vaultId === 'v-watch'),
      'the watchdog to seal and recheck the vault',
    );
    const annUser = { id: 'ann', roles: ['admin', 'auditor'] };
    expect(witness().seals.filter((s) => s.vaultId === 'v-watch')).toEqual([
      { vaultId: 'v-watch', user: annUser },
    ]);
    expect(watchdogSeen.filter((s) => s.vaultId === 'v-watch')).toEqual([
      { vaultId: 'v-watch', user: annUser },
    ]);
  });

  it('delivers a schedule nobody scheduled as a user as the system user', async () => {
    await apps().server.get(Scheduler).schedule(new Sweep(1), { delay: 0 });
    await waitUntil(
      () => witness().sweeps.length > 0,
      'the sweep to be delivered',
    );
    expect(witness().sweeps).toEqual([
      { n: 1, user: { id: 'system', roles: ['system'] } },
    ]);
  });
}
