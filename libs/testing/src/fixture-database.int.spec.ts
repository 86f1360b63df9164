import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { embeddedDatabasesOpen } from './fixture-database.js';
import { TestFixture } from './test-fixture.js';
import { waitUntil } from '../../core/test/wait-until.js';

@Injectable()
class FailsToStart implements OnModuleInit {
  onModuleInit(): void {
    throw new Error('cannot start');
  }
}

@Module({ providers: [FailsToStart] })
class BrokenModule {}

// The embedded fixtures of a test file share one PGlite; it must close once
// they are done, or the test process cannot exit.
describe('the shared embedded database', () => {
  it('stays open from one fixture to the next, and closes after the last', async () => {
    const first = await TestFixture.create();
    await first.close();
    const second = await TestFixture.create();
    expect(embeddedDatabasesOpen()).toBe(1);
    await second.close();
    await waitUntil(() => embeddedDatabasesOpen() === 0, 'the database closed');
  });

  it('gives a fixture opened beside another a database of its own', async () => {
    const first = await TestFixture.create();
    const second = await TestFixture.create();
    expect(embeddedDatabasesOpen()).toBe(2);
    await first.close();
    await second.close();
    await waitUntil(
      () => embeddedDatabasesOpen() === 0,
      'the databases closed',
    );
  });

  it('is released by a fixture that fails to start', async () => {
    await expect(
      TestFixture.create({ imports: [BrokenModule] }),
    ).rejects.toThrow('cannot start');
    await waitUntil(() => embeddedDatabasesOpen() === 0, 'the database closed');
  });
});
