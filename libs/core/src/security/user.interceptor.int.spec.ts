import {
  Catch,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import {
  ChronicleModule,
  CommandBus,
  EventStore,
  ForbiddenError,
  QueryBus,
  UnauthenticatedError,
  UserInterceptor,
  type StoredEvent,
} from '../index.js';
import { freshSchema, pgliteDatabase } from '../../test/databases.js';
import { OpenVault, VaultModule, WhoAmI } from '../../test/security.fixture.js';

// An HTTP app as users write one: a guard authenticates (here, a header
// stands in for a verified token) and sets request.user, as passport does;
// the UserInterceptor runs the request as that user.

@Injectable()
class HeaderAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: unknown }>();
    const header = request.headers['x-test-user'];
    if (header) request.user = JSON.parse(header) as unknown;
    return true;
  }
}

/** The app's own mapping of Chronicle's refusals to HTTP statuses. */
@Catch(UnauthenticatedError, ForbiddenError)
class RefusalFilter implements ExceptionFilter {
  catch(error: UnauthenticatedError | ForbiddenError, host: ArgumentsHost) {
    host
      .switchToHttp()
      .getResponse<{
        status(code: number): { json(body: unknown): void };
      }>()
      .status(error instanceof ForbiddenError ? 403 : 401)
      .json({ code: error.code, message: error.message });
  }
}

@UseGuards(HeaderAuthGuard)
@Controller('vaults')
class VaultController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('me')
  async me(): Promise<unknown> {
    return { me: await this.queries.execute(new WhoAmI()) };
  }

  @Post(':id/open')
  async open(@Param('id') id: string): Promise<unknown> {
    return { openedBy: await this.commands.execute(new OpenVault(id)) };
  }
}

describe('UserInterceptor on a real HTTP server', () => {
  const database = pgliteDatabase();
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database.client(), schema: freshSchema('sech') },
          security: { requireUser: true },
        }),
        VaultModule,
      ],
      controllers: [VaultController],
      providers: [
        { provide: APP_INTERCEPTOR, useClass: UserInterceptor },
        { provide: APP_FILTER, useClass: RefusalFilter },
      ],
    })
    class HttpAppModule {}
    app = await NestFactory.create(HttpAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await database.close();
  });

  const ann = JSON.stringify({ id: 'ann', roles: ['admin'] });

  it('runs a request as request.user: the query sees the user, the command stores it with its events', async () => {
    const me = await fetch(`${url}/vaults/me`, {
      headers: { 'x-test-user': ann },
    });
    expect(await me.json()).toEqual({ me: { id: 'ann', roles: ['admin'] } });

    const opened = await fetch(`${url}/vaults/v-http/open`, {
      method: 'POST',
      headers: { 'x-test-user': ann },
    });
    expect(await opened.json()).toEqual({ openedBy: 'ann' });
    const events: StoredEvent[] = [];
    for await (const event of app
      .get(EventStore)
      .readStream('sec.Vault-v-http'))
      events.push(event);
    expect(events.map((e) => e.metadata.user)).toEqual([
      { id: 'ann', roles: ['admin'] },
    ]);
  });

  it('runs a request without request.user as no one; refusals reach the HTTP layer as their classes', async () => {
    const anonymous = await fetch(`${url}/vaults/me`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });

    const guest = await fetch(`${url}/vaults/v-guest/open`, {
      method: 'POST',
      headers: { 'x-test-user': JSON.stringify({ id: 'gus', roles: [] }) },
    });
    expect(guest.status).toBe(403);
    expect(await guest.json()).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('User gus may not have sec.OpenVault'),
    });
  });
});
