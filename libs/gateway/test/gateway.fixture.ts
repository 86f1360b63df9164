import {
  Injectable,
  Module,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsNotEmpty, IsString } from 'class-validator';
import {
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  RequiresRole,
  type ICommandHandler,
  type SqlClient,
} from '@chronicle/core';
import { ChronicleGatewayModule, type GatewayOptions } from '../src/index.js';

/** A command only admins may send, handled in the gateway's own app. */
@CommandType('gw.OpenVault')
export class OpenVault extends Command<{ openedBy: string }> {
  @IsString()
  @IsNotEmpty()
  vault: string;

  constructor(vault: string) {
    super();
    this.vault = vault;
  }
}

@RequiresRole('admin')
@CommandHandler(OpenVault)
export class OpenVaultHandler implements ICommandHandler<OpenVault> {
  execute(): Promise<{ openedBy: string }> {
    return Promise.resolve({ openedBy: 'the vault handler' });
  }
}

/**
 * Stands for the app's auth guard: the user is whatever the `X-Test-User`
 * header says (a real app verifies a token here).
 */
@Injectable()
export class TestUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: unknown }>();
    const header = request.headers['x-test-user'];
    if (header) request.user = JSON.parse(header) as unknown;
    return true;
  }
}

/** An HTTP app on a system-chosen port: Chronicle on NATS, the gateway under /api. */
export async function gatewayApp(
  client: SqlClient,
  schema: string,
  namespace: string,
  natsUrl: string,
  gateway: GatewayOptions = {},
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      ChronicleModule.forRoot({
        app: 'front',
        database: { client, schema },
        transport: { nats: natsUrl, namespace, timeoutMs: 5_000 },
      }),
      ChronicleGatewayModule.forRoot({
        path: 'api',
        guards: [TestUserGuard],
        ...gateway,
      }),
    ],
    providers: [OpenVaultHandler],
  })
  class FrontModule {}
  const app = await NestFactory.create(FrontModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `${await app.getUrl()}/api` };
}
