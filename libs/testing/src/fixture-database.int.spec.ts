import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { sharedPgliteIsOpen } from './fixture-database.js';
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
    expect(sharedPgliteIsOpen()).toBe(true);
    await second.close();
    await waitUntil(() => !sharedPgliteIsOpen(), 'the database closed');
  });

  it('is released by a fixture that fails to start', async () => {
    await expect(
      TestFixture.create({ imports: [BrokenModule] }),
    ).rejects.toThrow('cannot start');
    await waitUntil(() => !sharedPgliteIsOpen(), 'the database closed');
  });
});
