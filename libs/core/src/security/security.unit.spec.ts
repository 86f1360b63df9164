import { Observable, firstValueFrom } from 'rxjs';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import {
  AccessCheck,
  AccessRuleError,
  CurrentUser,
  DefaultUserProvider,
  ForbiddenError,
  Public,
  RequiresRole,
  RequiresUser,
  UnauthenticatedError,
  UnreadableUserError,
  UserInterceptor,
  UserProvider,
  createEnvelope,
  CommandType,
  MessageContext,
  resolveAccessRule,
  type JsonValue,
} from '../index.js';
import { parseUser } from '../cli/send.command.js';
import { UsageError } from '../cli/cli-database.js';

@CommandType('secu.Plain')
class Plain {}

@RequiresRole('admin')
@CommandType('secu.AdminOnly')
class AdminOnly {}

@Public()
@CommandType('secu.Open')
class Open {}

class PlainHandler {}

@RequiresUser()
class UserHandler {}

@Public()
class PublicHandler {}

@RequiresRole('ops', 'admin')
class OpsHandler {}

class InheritedOpsHandler extends OpsHandler {}

describe('DefaultUserProvider', () => {
  const provider = new DefaultUserProvider();

  it('writes and reads { id, roles }, and nothing else a user object holds', () => {
    const written = provider.serialize({
      id: 'ann',
      roles: ['admin'],
      token: 'secret',
    } as never);
    expect(written).toEqual({ id: 'ann', roles: ['admin'] });
    expect(provider.deserialize(written)).toEqual({
      id: 'ann',
      roles: ['admin'],
    });
    expect(provider.rolesOf(provider.deserialize({ id: 'bob' }))).toEqual([]);
    expect(provider.idOf({ id: 'bob' })).toBe('bob');
    expect(provider.systemUser()).toEqual({ id: 'system', roles: ['system'] });
  });

  it.each([
    ['a string', 'ann'],
    ['null', null],
    ['an array', [{ id: 'ann' }]],
    ['an empty id', { id: '' }],
    ['a numeric id', { id: 7 }],
    ['roles that are not a list', { id: 'ann', roles: 'admin' }],
    ['an empty role', { id: 'ann', roles: [''] }],
  ])('refuses %s with UnreadableUserError', (_what, value) => {
    expect(() => provider.deserialize(value)).toThrow(UnreadableUserError);
  });
});

describe('access rules', () => {
  it("takes the handler class's rule over the message class's, then requireUser", () => {
    expect(resolveAccessRule(PlainHandler, Plain, false)).toBeUndefined();
    expect(resolveAccessRule(PlainHandler, Plain, true)).toEqual({
      kind: 'user',
    });
    expect(resolveAccessRule(PlainHandler, AdminOnly, false)).toEqual({
      kind: 'roles',
      roles: ['admin'],
    });
    expect(resolveAccessRule(PublicHandler, AdminOnly, true)).toEqual({
      kind: 'public',
    });
    expect(resolveAccessRule(OpsHandler, Open, true)).toEqual({
      kind: 'roles',
      roles: ['ops', 'admin'],
    });
    expect(resolveAccessRule(UserHandler, AdminOnly, false)).toEqual({
      kind: 'user',
    });
    expect(resolveAccessRule(PlainHandler, Open, true)).toEqual({
      kind: 'public',
    });
    expect(resolveAccessRule(InheritedOpsHandler, Plain, false)).toEqual({
      kind: 'roles',
      roles: ['ops', 'admin'],
    });
  });

  it('refuses @RequiresRole without a role', () => {
    expect(() => RequiresRole()).toThrow(AccessRuleError);
    expect(() => RequiresRole('admin', ' ')).toThrow(AccessRuleError);
  });

  it('asks nothing of a public handler, even under requireUser', () => {
    expect(
      new AccessCheck({ requireUser: true }).ruleFor(PublicHandler, Plain),
    ).toBeNull();
  });

  it('refuses typed: no user, an unreadable one, one without any of the roles', () => {
    const access = new AccessCheck();
    const rule = access.ruleFor(OpsHandler, Plain);
    if (rule === null) throw new Error('OpsHandler has a rule');
    const meta = (user?: unknown) =>
      user === undefined
        ? { correlationId: 'c' }
        : { correlationId: 'c', user };
    expect(() => access.enforce(rule, meta(), 'secu.Plain')).toThrow(
      UnauthenticatedError,
    );
    expect(() =>
      access.enforce(rule, meta({ name: 'x' }), 'secu.Plain'),
    ).toThrow(expect.objectContaining({ reason: 'unreadable' }));
    expect(() =>
      access.enforce(rule, meta({ id: 'eve', roles: ['guest'] }), 'secu.Plain'),
    ).toThrow(ForbiddenError);
    expect(() =>
      access.enforce(rule, meta({ id: 'bob', roles: ['ops'] }), 'secu.Plain'),
    ).not.toThrow();
  });

  it('reads users with the provider the app gives', () => {
    class TenantUsers extends UserProvider<{ sub: string; admin: boolean }> {
      serialize(user: { sub: string; admin: boolean }): JsonValue {
        return `${user.sub}:${user.admin ? 'admin' : 'user'}`;
      }
      deserialize(value: unknown) {
        const [sub, level] = String(value).split(':');
        if (!sub || !level) throw new UnreadableUserError('not sub:level');
        return { sub, admin: level === 'admin' };
      }
      rolesOf(user: { admin: boolean }) {
        return user.admin ? ['admin'] : [];
      }
      idOf(user: { sub: string }) {
        return user.sub;
      }
      systemUser() {
        return { sub: 'cron', admin: true };
      }
    }
    const access = new AccessCheck({ userProvider: new TenantUsers() });
    const rule = { kind: 'roles', roles: ['admin'] } as const;
    expect(() =>
      access.enforce(rule, { correlationId: 'c', user: 'kim:admin' }, 't'),
    ).not.toThrow();
    expect(() =>
      access.enforce(rule, { correlationId: 'c', user: 'kim:user' }, 't'),
    ).toThrow(expect.objectContaining({ userId: 'kim' }));
    expect(access.withSystemUser({ correlationId: 'c' })).toEqual({
      correlationId: 'c',
      user: 'cron:admin',
    });
  });
});

describe('CurrentUser', () => {
  const current = new CurrentUser(new AccessCheck());

  it('puts the user in every message made inside runAs, and a handling of one carries it on', () => {
    expect(current.get()).toBeUndefined();
    const made = current.runAs({ id: 'ann', roles: ['admin'] }, () => {
      expect(current.get()).toEqual({ id: 'ann', roles: ['admin'] });
      return createEnvelope(new Plain(), 'command');
    });
    expect(made.metadata.user).toEqual({ id: 'ann', roles: ['admin'] });
    const caused = MessageContext.run(made, () =>
      createEnvelope(new Plain(), 'command'),
    );
    expect(caused.metadata.user).toEqual({ id: 'ann', roles: ['admin'] });
    expect(caused.metadata.causationId).toBe(made.id);
    // Inside a handling, runAs speaks for what is sent in it.
    const asSystem = MessageContext.run(made, () =>
      current.runAsSystem(() => createEnvelope(new Plain(), 'command')),
    );
    expect(asSystem.metadata.user).toEqual({ id: 'system', roles: ['system'] });
    expect(() => current.require()).toThrow(UnauthenticatedError);
  });

  it('refuses to run as something the provider cannot write', () => {
    expect(() => current.runAs({ id: '' }, () => undefined)).toThrow(
      UnreadableUserError,
    );
  });
});

describe('UserInterceptor', () => {
  const current = new CurrentUser(new AccessCheck());
  const interceptor = new UserInterceptor(current);
  const http = (user: unknown) =>
    ({
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => ({ user }) }),
    }) as unknown as ExecutionContext;
  const next: CallHandler = {
    handle: () =>
      new Observable((subscriber) => {
        void Promise.resolve().then(() => {
          subscriber.next(current.get());
          subscriber.complete();
        });
      }),
  };

  it("runs the request as request.user, across the handler's awaits", async () => {
    expect(
      await firstValueFrom(interceptor.intercept(http({ id: 'ann' }), next)),
    ).toEqual({ id: 'ann' });
    expect(
      await firstValueFrom(interceptor.intercept(http(undefined), next)),
    ).toBeUndefined();
  });
});

describe('chronicle send --user', () => {
  it('takes the user as JSON, and says how to write it when it is not', () => {
    expect(parseUser('{"id":"ann","roles":["admin"]}')).toEqual({
      id: 'ann',
      roles: ['admin'],
    });
    expect(parseUser(undefined)).toBeUndefined();
    expect(() => parseUser('ann')).toThrow(UsageError);
    expect(() => parseUser('ann')).toThrow(/--user '\{"id":"ann"/);
  });
});
