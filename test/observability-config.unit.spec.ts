import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { ChronicleMetrics } from '@chronicle/core';

// The dashboard and the alert rules in deploy/observability are PromQL in
// files: a metric renamed in the code, or a typo in a panel, would still
// provision and parse, and show an empty panel or never fire. These checks
// tie them to the instruments Chronicle registers.
// (scripts/check-dashboard.mjs runs the same expressions on a real Prometheus.)

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

const dashboard = JSON.parse(
  readFileSync(
    'deploy/observability/grafana/dashboards/chronicle.json',
    'utf8',
  ),
) as { panels: Panel[]; templating: { list: { name: string }[] } };
const alerts = readFileSync('deploy/observability/alerts.yml', 'utf8');

function panels(list: Panel[]): Panel[] {
  return list.flatMap((p) => (p.type === 'row' ? panels(p.panels ?? []) : [p]));
}
const queries = panels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })),
);
const metricsIn = (text: string) => text.match(/\bchronicle_[a-z_]+/g) ?? [];

async function registered(): Promise<Map<string, string>> {
  const registry = new Registry();
  ChronicleMetrics.forRegistry(registry);
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** The instrument a series name belongs to: histograms add _bucket, _sum, _count. */
function instrumentOf(
  series: string,
  known: Map<string, string>,
): string | undefined {
  if (known.has(series)) return series;
  const m = /^(.+)_(bucket|sum|count)$/.exec(series);
  return m && known.get(m[1]) === 'histogram' ? m[1] : undefined;
}

describe('deploy/observability', () => {
  it('the dashboard queries only metrics Chronicle registers', async () => {
    const known = await registered();
    const unknown = queries.flatMap(({ panel, expr }) =>
      metricsIn(expr)
        .filter((series) => !instrumentOf(series, known))
        .map((series) => `${panel}: ${series}`),
    );
    expect(unknown).toEqual([]);
  });

  it('the dashboard shows every metric Chronicle registers', async () => {
    const known = await registered();
    const shown = new Set(
      queries.flatMap(({ expr }) =>
        metricsIn(expr).map((series) => instrumentOf(series, known)),
      ),
    );
    expect([...known.keys()].filter((name) => !shown.has(name))).toEqual([]);
  });

  it('every panel of the dashboard follows its App variable', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toContain('app');
    const unfiltered = queries.filter(
      ({ expr }) =>
        metricsIn(expr).length !== expr.split('job=~"$app"').length - 1,
    );
    expect(unfiltered).toEqual([]);
  });

  it('the alert rules use only metrics Chronicle registers', async () => {
    const known = await registered();
    const used = metricsIn(alerts);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((series) => !instrumentOf(series, known))).toEqual([]);
  });
});
