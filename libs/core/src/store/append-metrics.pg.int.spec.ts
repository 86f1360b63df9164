import { Registry } from 'prom-client';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { newMessageId } from '../messages/index.js';
import { Telemetry } from '../telemetry/index.js';
import { ConcurrencyError } from './concurrency.error.js';
import type { NewEvent } from './event-store.js';
import { PostgresEventStore } from './postgres/index.js';
import { CommandAlreadyHandledError } from './store.errors.js';

function event(): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'metrics.Happened',
    revision: 1,
    payload: {},
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}

describe('Append metrics on PostgreSQL', () => {
  const database = postgresDatabase();
  afterAll(() => database.close());

  async function observedStore() {
    const registry = new Registry();
    const telemetry = Telemetry.from({ registry, path: false });
    const store = new PostgresEventStore(
      database.client(),
      freshSchema(),
      undefined,
      { telemetry },
    );
    await store.migrate();
    const metrics = telemetry.metrics!;
    const count = async (outcome: string) =>
      (await metrics.appends.get()).values.find(
        (v) => v.labels.outcome === outcome,
      )?.value ?? 0;
    const sum = async (histogram: typeof metrics.appendDuration) => {
      const values = (await histogram.get()).values;
      return {
        count: values.find((v) => v.metricName?.endsWith('_count'))?.value,
        sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value,
      };
    };
    return { store, metrics, count, sum };
  }

  it('counts each unit of work by outcome: ok, conflict, duplicate', async () => {
    const { store, count } = await observedStore();
    await store.append('s-1', [event()], { expectedVersion: 'noStream' });
    await expect(
      store.append('s-1', [event()], { expectedVersion: 'noStream' }),
    ).rejects.toThrow(ConcurrencyError);
    const command = { id: newMessageId(), type: 'metrics.Do', result: 1 };
    await store.appendToStreams(
      [{ streamId: 's-2', events: [event()], expectedVersion: 'any' }],
      { handledCommand: command },
    );
    await expect(
      store.appendToStreams(
        [{ streamId: 's-3', events: [event()], expectedVersion: 'any' }],
        { handledCommand: command },
      ),
    ).rejects.toThrow(CommandAlreadyHandledError);
    // A store bound to a transaction counts too.
    await store.transaction((bound) => bound.append('s-4', [event()]));

    expect(await count('ok')).toBe(3);
    expect(await count('conflict')).toBe(1);
    expect(await count('duplicate')).toBe(1);
    expect(await count('failed')).toBe(0);
  });

  it('times each statement of a group commit, with the units and events it carried', async () => {
    const { store, metrics, count, sum } = await observedStore();
    // Sent at once: the first goes alone, the rest share statements behind it.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.append(`g-${i}`, [event(), event()]),
      ),
    );
    const stats = store.groupCommit!.stats;
    expect(stats.largestBatch).toBeGreaterThan(1);
    expect(await count('ok')).toBe(20);
    expect((await sum(metrics.appendDuration)).count).toBe(stats.statements);
    expect(await sum(metrics.appendUnitsPerStatement)).toEqual({
      count: stats.statements,
      sum: 20,
    });
    expect((await sum(metrics.appendEventsPerStatement)).sum).toBe(40);
  });
});
