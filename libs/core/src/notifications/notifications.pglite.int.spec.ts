import { Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  HandleNotification,
  NotificationDefinitionError,
} from '../index.js';
import { freshSchema, pgliteDatabase } from '../../test/databases.js';
import { notificationsSuite } from '../../test/notifications.suite.js';
import { Noted } from '../../test/tracking.fixture.js';

const database = pgliteDatabase();
afterAll(() => database.close());

describe('Notifications on PGlite (embedded, in process)', () => {
  notificationsSuite(() => database);
});

@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  @HandleNotification(Noted)
  onNoted(): void {}
}

@Injectable()
class NamesNothing {
  @HandleNotification()
  onSomething(): void {}
}

describe('@HandleNotification declared wrongly', () => {
  async function start(provider: object): Promise<unknown> {
    @Module({ providers: [provider as typeof PerRequest] })
    class Holder {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          database: { client: database.client(), schema: freshSchema('ntd') },
        }),
        Holder,
      ],
    }).compile();
    try {
      await moduleRef.init();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await moduleRef.close();
    }
  }

  it('on a request-scoped provider: refused at start, naming the class and the fix', async () => {
    const error = await start(PerRequest);
    expect(error).toBeInstanceOf(NotificationDefinitionError);
    expect((error as Error).message).toContain('PerRequest');
    expect((error as Error).message).toContain('make it a singleton');
  });

  it('without an event class: refused at start, naming the method', async () => {
    const error = await start(NamesNothing);
    expect(error).toBeInstanceOf(NotificationDefinitionError);
    expect((error as Error).message).toContain('NamesNothing.onSomething');
  });
});
