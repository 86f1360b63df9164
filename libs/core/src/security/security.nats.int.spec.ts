import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ChronicleModule, type ChronicleModuleOptions } from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../test/nats.js';
import { VaultModule } from '../../test/security.fixture.js';
import { securitySuite } from '../../test/security.suite.js';

// App "front" handles nothing: every command and query goes over NATS to app
// "vault", which checks who sent it. Both on one PostgreSQL store.

/** The front app: the message classes are loaded (the fixture file is imported), no handler. */
@Module({})
class FrontModule {}

describe('users and roles across apps over NATS', () => {
  const database = postgresDatabase();
  const schema = freshSchema('secn');
  const namespace = freshNamespace();
  const apps: INestApplicationContext[] = [];
  let front: INestApplicationContext;
  let vault: INestApplicationContext;

  async function start(
    app: string,
    feature: typeof VaultModule | typeof FrontModule,
  ): Promise<INestApplicationContext> {
    const options: ChronicleModuleOptions = {
      app,
      database: { client: database.client(), schema },
      transport: { nats: { servers: NATS_URL }, namespace },
      security: { requireUser: true },
      scheduling: { pollInterval: 50, maxAttempts: 5 },
      tracking: { pollIntervalMs: 50, instanceId: app },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [ChronicleModule.forRoot(options), feature],
    }).compile();
    const started = await moduleRef.init();
    apps.push(started);
    return started;
  }

  beforeAll(async () => {
    vault = await start('vault', VaultModule);
    front = await start('front', FrontModule);
  });

  afterAll(async () => {
    while (apps.length > 0) await apps.pop()?.close();
    await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });

  securitySuite(() => ({ caller: front, server: vault }));
});
