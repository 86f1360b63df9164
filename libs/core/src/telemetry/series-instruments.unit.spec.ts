import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series-instruments.js';

// Chronicle's hot instruments record through series of their own; what a
// scrape shows must be exactly what prom-client's own instruments show after
// the same calls, through every way of writing prom-client offers.
describe('series instruments scrape as prom-client does', () => {
  const BUCKETS = [0.001, 0.01, 0.1, 1];

  function histograms(labelNames: ('kind' | 'type')[]) {
    const theirs = new Registry();
    const ours = new Registry();
    const config = { name: 'h_seconds', help: 'A histogram.', labelNames };
    return {
      theirs: new Histogram({
        ...config,
        buckets: BUCKETS,
        registers: [theirs],
      }),
      ours: new SeriesHistogram({
        ...config,
        buckets: BUCKETS,
        registers: [ours],
      }),
      scrape: async () => ({
        theirs: await theirs.metrics(),
        ours: await ours.metrics(),
        theirsJson: await theirs.getMetricsAsJSON(),
        oursJson: await ours.getMetricsAsJSON(),
      }),
    };
  }

  it('a histogram: observe, labels(), startTimer, zero, remove, reset', async () => {
    const { theirs, ours, scrape } = histograms(['kind', 'type']);
    for (const h of [theirs, ours]) {
      h.observe({ kind: 'command', type: 'a' }, 0.0005);
      h.observe({ kind: 'command', type: 'a' }, 0.05);
      h.observe({ kind: 'command', type: 'a' }, 7);
      h.labels('query', 'b').observe(0.01);
      h.labels({ kind: 'query', type: 'c' }).observe(0.2);
      h.zero({ kind: 'event', type: 'z' });
    }
    // The series a caller keeps, next to prom-client's own calls.
    ours.series({ kind: 'command', type: 'a' }).observe(0.001);
    theirs.observe({ kind: 'command', type: 'a' }, 0.001);
    let scraped = await scrape();
    expect(scraped.ours).toBe(scraped.theirs);
    expect(scraped.oursJson).toEqual(scraped.theirsJson);
    expect(scraped.ours).toContain(
      'h_seconds_bucket{le="0.001",kind="command",type="a"} 2',
    );

    for (const h of [theirs, ours]) h.remove('query', 'b');
    ours.remove({ kind: 'query', type: 'c' });
    theirs.remove({ kind: 'query', type: 'c' });
    scraped = await scrape();
    expect(scraped.ours).toBe(scraped.theirs);
    expect(scraped.ours).not.toContain('type="b"');

    for (const h of [theirs, ours]) h.reset();
    expect((await scrape()).ours).toBe((await scrape()).theirs);
    ours.series({ kind: 'query', type: 'b' }).observe(0.3);
    theirs.observe({ kind: 'query', type: 'b' }, 0.3);
    scraped = await scrape();
    expect(scraped.ours).toBe(scraped.theirs);
    expect(scraped.ours).toContain('h_seconds_count{kind="query",type="b"} 1');

    // A timer observes into the series too (its duration differs by run).
    ours.startTimer({ kind: 'command', type: 't' })();
    ours.labels('command', 't').startTimer()();
    expect((await scrape()).ours).toContain(
      'h_seconds_count{kind="command",type="t"} 2',
    );
  });

  it('an unlabelled histogram shows its zeros before any observation', async () => {
    const { theirs, ours, scrape } = histograms([]);
    expect((await scrape()).ours).toBe((await scrape()).theirs);
    for (const h of [theirs, ours]) h.observe(0.02);
    const scraped = await scrape();
    expect(scraped.ours).toBe(scraped.theirs);
    expect(scraped.ours).toContain('h_seconds_sum 0.02');
  });

  it('refuses a value that is not a number, a label it was not made with, a wrong count of values', async () => {
    const { ours, scrape } = histograms(['kind']);
    expect(() => ours.labels('command', 'extra')).toThrow(/Invalid number/);
    expect(() => ours.remove('command', 'extra')).toThrow(/Invalid number/);
    expect(() => ours.series({ kind: 'command' }).observe(NaN)).toThrow(
      TypeError,
    );
    expect(() =>
      ours.series({ kind: 'command', handler: 'x' } as never),
    ).toThrow(/Label "handler" is not one of h_seconds's labels/);
    expect((await scrape()).ours).not.toContain('h_seconds_count');
  });

  it('a counter: series, inc, labels(), remove, reset', async () => {
    const theirReg = new Registry();
    const ourReg = new Registry();
    const config = {
      name: 'c_total',
      help: 'A counter.',
      labelNames: ['kind', 'outcome'] as ('kind' | 'outcome')[],
    };
    const theirs = new Counter({ ...config, registers: [theirReg] });
    const ours = new SeriesCounter({ ...config, registers: [ourReg] });
    // Prometheus reads a counter's series in any order: compared sorted.
    const sorted = (text: string) => text.split('\n').sort().join('\n');
    const scrape = async () => [
      sorted(await theirReg.metrics()),
      sorted(await ourReg.metrics()),
    ];

    const kept = ours.series({ kind: 'command', outcome: 'ok' });
    kept.inc();
    kept.inc();
    theirs.inc({ kind: 'command', outcome: 'ok' }, 2);
    for (const c of [theirs, ours]) {
      c.inc({ kind: 'query', outcome: 'failed' });
      c.labels('query', 'ok').inc(3);
    }
    let [theirText, ourText] = await scrape();
    expect(ourText).toBe(theirText);
    expect(ourText).toContain('c_total{kind="command",outcome="ok"} 2');

    // Counted between scrapes, then scraped twice: added once.
    kept.inc();
    theirs.inc({ kind: 'command', outcome: 'ok' });
    await scrape();
    [theirText, ourText] = await scrape();
    expect(ourText).toBe(theirText);
    expect(ourText).toContain('c_total{kind="command",outcome="ok"} 3');

    kept.inc(5);
    ours.remove('command', 'ok');
    theirs.remove('command', 'ok');
    [theirText, ourText] = await scrape();
    expect(ourText).toBe(theirText);
    expect(ourText).not.toContain('kind="command"');

    kept.inc(4);
    ours.reset();
    theirs.reset();
    kept.inc();
    theirs.inc({ kind: 'command', outcome: 'ok' });
    [theirText, ourText] = await scrape();
    expect(ourText).toBe(theirText);
    expect(ourText).toContain('c_total{kind="command",outcome="ok"} 1');
  });
});
