import type { INestApplicationContext } from '@nestjs/common';
import { freshSchema, pgliteDatabase } from '../../test/databases.js';
import {
  deposited,
  FAST_TRACKING,
  recorded,
  Recorder,
  trackingApp,
  waitFor,
} from '../../test/tracking.fixture.js';
import { EventStore } from '../index.js';
import { TrackingService } from './index.js';

// One build, several processes: a consumer runs only where its module is enabled.
describe('consumers and enabled modules', () => {
  const database = pgliteDatabase();
  const apps: INestApplicationContext[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => database.close());

  it('runs no consumer of a module this process does not enable, and runs it where enabled', async () => {
    const schema = freshSchema('enabled');
    const elsewhere = await trackingApp(
      database.client(),
      schema,
      [Recorder],
      FAST_TRACKING,
      [],
    );
    apps.push(elsewhere);
    await expect(
      elsewhere.get(TrackingService).health('recorder'),
    ).rejects.toThrow(/recorder/);

    const here = await trackingApp(
      database.client(),
      schema,
      [Recorder],
      FAST_TRACKING,
      ['consumers'],
    );
    apps.push(here);
    const before = recorded.all.ids.length;
    await here.get(EventStore).append('acct-9', [deposited('acct-9', 5)]);
    await waitFor(
      () => recorded.all.ids.length === before + 1,
      'the enabled consumer ran',
    );
  });
});
