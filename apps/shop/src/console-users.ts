import {
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';

/**
 * The demo's console login: HTTP Basic against `CONSOLE_USERS`
 * (`name:password:role+role,...`), else two demo users, `admin`/`admin`
 * (role admin) and `viewer`/`viewer` (no role). A real app puts its own
 * authentication here (passport, a gateway's header) and sets `request.user`.
 */
export const DEMO_CONSOLE_USERS = 'admin:admin:admin,viewer:viewer:';

interface ConsoleAccount {
  readonly password: string;
  readonly roles: string[];
}

function accountsFrom(text: string): Map<string, ConsoleAccount> {
  return new Map(
    text
      .split(',')
      .filter(Boolean)
      .map((entry) => {
        const [name, password = '', roles = ''] = entry.split(':');
        return [
          name,
          { password, roles: roles.split('+').filter(Boolean) },
        ] as const;
      }),
  );
}

interface BasicRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}

@Injectable()
export class ShopConsoleLogin implements CanActivate {
  private readonly accounts = accountsFrom(
    process.env.CONSOLE_USERS ?? DEMO_CONSOLE_USERS,
  );

  constructor() {
    if (process.env.CONSOLE_PORT && process.env.CONSOLE_USERS === undefined) {
      new Logger('shop').warn(
        'console users are the demo ones (admin/admin, viewer/viewer): set CONSOLE_USERS',
      );
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<BasicRequest>();
    const header = request.headers.authorization;
    const [scheme, encoded] =
      typeof header === 'string' ? header.split(' ') : [];
    if (scheme === 'Basic' && encoded) {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const account = this.accounts.get(name);
      if (colon > 0 && account?.password === decoded.slice(colon + 1)) {
        request.user = { id: name, roles: account.roles };
        return true;
      }
    }
    context
      .switchToHttp()
      .getResponse<{ setHeader(name: string, value: string): void }>()
      .setHeader('WWW-Authenticate', 'Basic realm="Chronicle console"');
    throw new UnauthorizedException('Sign in to see the console.');
  }
}
