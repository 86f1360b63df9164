import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { register, Registry } from 'prom-client';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Add,
  Broken,
  closeGate,
  createObservedApp,
  NegativeAmount,
  observed,
  Orphan,
  Remind,
  resetObserved,
} from './observed.fixture.js';
import { waitUntil } from './wait-until.js';
import { MetricsEndpoint } from '../src/observability/index.js';
import { Scheduler } from '../src/scheduling/index.js';

/** The samples of a Prometheus text exposition: name, labels, value. */
function samples(text: string) {
  const out: { name: string; labels: Record<string, string>; value: number }[] =
    [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(
      /(\w+)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key] = value;
    }
    out.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return out;
}

/** The value of the one sample with exactly these labels, or undefined. */
function valueOf(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const keys = Object.keys(labels);
  return samples(text).find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === keys.length &&
      keys.every((key) => s.labels[key] === labels[key]),
  )?.value;
}

/** Metrics scraped from /metrics after a known workload, on `database`. */
export function metricsScrapeSuite(database: TestDatabase): void {
  describe(`Metrics scraped from /metrics after a known workload on ${database.name}`, () => {
    let app: INestApplicationContext | undefined;

    beforeEach(() => resetObserved());
    afterEach(async () => {
      observed.open();
      await app?.close();
      app = undefined;
    });
    afterAll(() => database.close());

    async function scrape(): Promise<string> {
      const address = app!.get(MetricsEndpoint).address()!;
      const response = await fetch(`http://127.0.0.1:${address.port}/metrics`);
      expect(response.status).toBe(200);
      return response.text();
    }

    it('counts appends, loads, consumer handlings, dead letters and schedules, and shows lag while a consumer is held', async () => {
      const registry = new Registry();
      closeGate();
      app = await createObservedApp({
        client: database.client(),
        schema: freshSchema('obs'),
        registry,
      });
      const commands = app.get(CommandBus);
      // N = 4 commands that append, one of them an event the poison consumer fails on.
      for (const [i, n] of [1, 2, 13, 4].entries()) {
        await commands.execute(new Add(`c-${i}`, n));
      }
      // M = 2 commands refused by a declared error: nothing appended.
      for (const i of [10, 11]) {
        await expect(commands.execute(new Add(`c-${i}`, -1))).rejects.toThrow(
          NegativeAmount,
        );
      }
      const scheduler = app.get(Scheduler);
      await scheduler.schedule(new Remind('r'), { delay: 0 });
      await scheduler.schedule(new Broken('b'), { delay: 0 });
      await scheduler.schedule(new Orphan('o'), { delay: 0 });

      await waitUntil(
        () => observed.tally.length === 4 && observed.poison.length === 3,
        'the tally and poison consumers handled every event',
      );
      await waitUntil(
        () => observed.reminded.length === 1,
        'the reminder was delivered',
      );

      let text = '';
      const delivered = (type: string, handler: string, outcome: string) =>
        valueOf(text, 'chronicle_messages_handled_total', {
          kind: 'schedule',
          type,
          handler,
          outcome,
        });
      const handled = (handler: string, outcome: string) =>
        valueOf(text, 'chronicle_messages_handled_total', {
          kind: 'event',
          type: 'obs.Added',
          handler,
          outcome,
        });
      // Each handling is counted just after it returns: wait for the counts
      // to get there, then check that they stop there.
      await waitUntil(async () => {
        text = await scrape();
        return (
          valueOf(text, 'chronicle_schedules_dead') === 1 &&
          valueOf(text, 'chronicle_consumer_dead_letters', {
            consumer: 'obs-poison',
          }) === 1 &&
          (handled('obs-tally', 'ok') ?? 0) >= 4 &&
          (handled('obs-poison', 'ok') ?? 0) >= 3 &&
          (handled('obs-poison', 'failed') ?? 0) >= 2 &&
          (delivered('obs.Remind', 'Reminders.onRemind', 'ok') ?? 0) >= 1 &&
          (delivered('obs.Broken', 'Reminders.onBroken', 'failed') ?? 0) >= 1
        );
      }, 'every handling counted, the broken schedule dead, the poison event dead-lettered');
      // The gated consumer is held at its first event: it lags by all 4.
      expect(
        valueOf(text, 'chronicle_consumer_lag_events', {
          consumer: 'obs-gated',
          segment: '0',
        }),
      ).toBe(4);
      expect(
        valueOf(text, 'chronicle_consumer_lag_seconds', {
          consumer: 'obs-gated',
          segment: '0',
        }),
      ).toBeGreaterThan(0);

      // Store: one unit of work per command that appended.
      expect(valueOf(text, 'chronicle_appends_total', { outcome: 'ok' })).toBe(
        4,
      );
      expect(
        valueOf(text, 'chronicle_appends_total', { outcome: 'conflict' }),
      ).toBeUndefined();
      expect(valueOf(text, 'chronicle_append_events_per_statement_sum')).toBe(
        4,
      );
      expect(
        valueOf(text, 'chronicle_append_duration_seconds_count'),
      ).toBeGreaterThanOrEqual(1);

      // Aggregates: each of the 6 commands loaded a counter with no events yet.
      expect(
        valueOf(text, 'chronicle_aggregate_loads_total', {
          aggregate: 'obs.Counter',
          source: 'events',
        }),
      ).toBe(6);
      expect(
        valueOf(text, 'chronicle_aggregate_load_events_sum', {
          aggregate: 'obs.Counter',
        }),
      ).toBe(0);
      expect(
        valueOf(text, 'chronicle_aggregate_load_duration_seconds_count', {
          aggregate: 'obs.Counter',
        }),
      ).toBe(6);

      // Consumers: each handling counted, the poison event's both attempts failed.
      expect(handled('obs-tally', 'ok')).toBe(4);
      expect(handled('obs-poison', 'ok')).toBe(3);
      expect(handled('obs-poison', 'failed')).toBe(2);
      expect(handled('obs-gated', 'ok')).toBeUndefined();
      expect(
        valueOf(text, 'chronicle_consumer_batch_duration_seconds_count', {
          consumer: 'obs-tally',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        valueOf(text, 'chronicle_consumer_dead_letters', {
          consumer: 'obs-tally',
        }),
      ).toBe(0);
      expect(
        valueOf(text, 'chronicle_consumer_segments_stopped', {
          consumer: 'obs-poison',
        }),
      ).toBe(0);
      expect(
        valueOf(text, 'chronicle_consumer_lag_events', {
          consumer: 'obs-tally',
          segment: '0',
        }),
      ).toBe(0);
      expect(
        valueOf(text, 'chronicle_consumer_lag_seconds', {
          consumer: 'obs-tally',
          segment: '0',
        }),
      ).toBe(0);

      // Schedules: one delivered, one failed into dead, one due with no handler here.
      expect(delivered('obs.Remind', 'Reminders.onRemind', 'ok')).toBe(1);
      expect(delivered('obs.Broken', 'Reminders.onBroken', 'failed')).toBe(1);
      expect(
        valueOf(text, 'chronicle_schedule_failures_total', {
          type: 'obs.Broken',
        }),
      ).toBe(1);
      expect(
        valueOf(text, 'chronicle_schedule_lateness_seconds_count', {
          type: 'obs.Remind',
        }),
      ).toBe(1);
      expect(valueOf(text, 'chronicle_schedules_due')).toBe(1);
      expect(
        valueOf(text, 'chronicle_log_held_back_seconds'),
      ).toBeGreaterThanOrEqual(0);
      expect(
        valueOf(text, 'chronicle_log_held_back_events'),
      ).toBeGreaterThanOrEqual(0);

      // Released, the gated consumer catches up: its lag goes to 0.
      observed.open();
      await waitUntil(
        () => observed.gated.length === 4,
        'the gated consumer handled every event',
      );
      await waitUntil(async () => {
        text = await scrape();
        return (
          valueOf(text, 'chronicle_consumer_lag_events', {
            consumer: 'obs-gated',
            segment: '0',
          }) === 0
        );
      }, 'the gated consumer shows no lag');
      expect(
        valueOf(text, 'chronicle_consumer_lag_seconds', {
          consumer: 'obs-gated',
          segment: '0',
        }),
      ).toBe(0);
      expect(handled('obs-gated', 'ok')).toBe(4);
    });

    it('registers nothing with metrics off, and takes its gauges away on close', async () => {
      const registry = new Registry();
      app = await createObservedApp({
        client: database.client(),
        schema: freshSchema('obs'),
      });
      await app.get(CommandBus).execute(new Add('off-1', 1));
      await waitUntil(() => observed.tally.length === 1, 'the event handled');
      // Not on prom-client's default registry either, the one `metrics: true` uses.
      expect(
        register
          .getMetricsAsArray()
          .filter((metric) => metric.name.startsWith('chronicle_')),
      ).toEqual([]);
      await app.close();
      app = undefined;

      // With metrics on, a closed app's scrape sources are gone: its gauges read empty.
      app = await createObservedApp({
        client: database.client(),
        schema: freshSchema('obs'),
        registry,
      });
      await app.get(CommandBus).execute(new Add('on-1', 1));
      await waitUntil(() => observed.tally.length === 2, 'the event handled');
      await app.close();
      app = undefined;
      const text = await registry.metrics();
      expect(valueOf(text, 'chronicle_appends_total', { outcome: 'ok' })).toBe(
        1,
      );
      expect(
        samples(text).filter((s) => s.name === 'chronicle_consumer_lag_events'),
      ).toEqual([]);
    });
  });
}
