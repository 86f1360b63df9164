import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ChronicleModule } from '../index.js';
import { freshSchema, pgliteDatabase } from '../../test/databases.js';
import { VaultModule } from '../../test/security.fixture.js';
import { securitySuite } from '../../test/security.suite.js';

describe('users and roles, embedded (PGlite, in process)', () => {
  const database = pgliteDatabase();
  let app: INestApplicationContext;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database.client(), schema: freshSchema('sec') },
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
    await database.close();
  });

  securitySuite(() => ({ caller: app, server: app }));
});
