import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ChronicleModule } from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { VaultModule } from '../../test/security.fixture.js';
import { securitySuite } from '../../test/security.suite.js';

describe('users and roles, on PostgreSQL in process', () => {
  const database = postgresDatabase();
  const schema = freshSchema('sec');
  let app: INestApplicationContext;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database.client(), schema },
          security: { requireUser: true },
          scheduling: { pollInterval: 50, maxAttempts: 5 },
          tracking: { pollIntervalMs: 50 },
        }),
        VaultModule,
      ],
    }).compile();
    app = await moduleRef.init();
  });

  afterAll(async () => {
    await app?.close();
    await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });

  securitySuite(() => ({ caller: app, server: app }));
});
