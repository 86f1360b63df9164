import { aggregateDefinitionOf } from '../aggregate.decorators.js';
import { Tally } from '../../../test/evolution.fixture.js';
import { AggregateCache } from './aggregate-cache.js';

const state = (version: number, text = 'x') => ({
  version,
  stateJson: JSON.stringify({ text }),
  snapshotVersion: 0,
});

describe('AggregateCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new AggregateCache({ maxEntries: 2 });
    cache.set('a', state(1));
    cache.set('b', state(1));
    cache.get('a');
    cache.set('c', state(1));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.version).toBe(1);
    expect(cache.get('c')?.version).toBe(1);
  });

  it('stays within maxBytes, and never keeps an entry larger than the whole cache', () => {
    const cache = new AggregateCache({ maxEntries: 100, maxBytes: 2000 });
    for (let i = 0; i < 10; i++) cache.set(`s${i}`, state(1, 'y'.repeat(200)));
    expect(cache.stats().bytes).toBeLessThanOrEqual(2000);
    expect(cache.stats().entries).toBeLessThan(10);
    expect(cache.get('s9')).toBeDefined();
    cache.set('huge', state(1, 'z'.repeat(5000)));
    expect(cache.get('huge')).toBeUndefined();
  });

  it('keeps the newest version of a stream, and a loser of a race drops only what it had loaded', () => {
    const cache = new AggregateCache();
    cache.set('a', state(5));
    cache.set('a', state(3));
    expect(cache.get('a')?.version).toBe(5);
    cache.delete('a', 4); // a writer that loaded version 4 lost: version 5 stays
    expect(cache.get('a')?.version).toBe(5);
    cache.delete('a', 5);
    expect(cache.get('a')).toBeUndefined();
  });

  it('is off with maxEntries 0', () => {
    const cache = new AggregateCache({ maxEntries: 0 });
    cache.set('a', state(1));
    expect(cache.enabled).toBe(false);
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('snapshotEvery', () => {
  it('snapshots once that many events were stored since the last snapshot', () => {
    const policy = aggregateDefinitionOf(Tally)?.snapshotPolicy;
    const context = { aggregate: new Tally(), previousVersion: 0 };
    expect(policy?.({ ...context, version: 499, lastSnapshotVersion: 0 })).toBe(
      false,
    );
    expect(policy?.({ ...context, version: 500, lastSnapshotVersion: 0 })).toBe(
      true,
    );
    expect(
      policy?.({ ...context, version: 900, lastSnapshotVersion: 500 }),
    ).toBe(false);
    expect(aggregateDefinitionOf(Tally)?.snapshotRevision).toBe(2);
  });
});
