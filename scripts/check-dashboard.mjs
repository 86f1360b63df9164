#!/usr/bin/env node
// Runs every PromQL expression of the Grafana dashboard against a Prometheus,
// through its HTTP API, the way Grafana would: each must parse, and (unless
// --parse-only) each panel must return data, except the few that stay empty
// while nothing goes wrong. Run it with apps scraped and some traffic sent:
//
//   node scripts/check-dashboard.mjs http://127.0.0.1:9090
//
// Options: --dashboard FILE (default: the one in deploy/observability),
// --app REGEX (the dashboard's $app, default .*), --rate-interval 1m
// ($__rate_interval), --parse-only, --may-be-empty "Title,Title".
// Exit code 1 when an expression fails or a panel that must have data has none.
// Built-ins only, so it runs without `npm ci`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

// Empty unless something fails: no failed handler, no transport error, no
// failed schedule delivery.
const EMPTY_WHEN_HEALTHY = [
  'Errors by outcome',
  'Transport errors',
  'Schedule failures',
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dashboard: {
      type: 'string',
      default: join(
        repoRoot,
        'deploy/observability/grafana/dashboards/chronicle.json',
      ),
    },
    app: { type: 'string', default: '.*' },
    'rate-interval': { type: 'string', default: '1m' },
    'parse-only': { type: 'boolean', default: false },
    'may-be-empty': { type: 'string' },
  },
});
const prometheus = (positionals[0] ?? 'http://127.0.0.1:9090').replace(
  /\/+$/,
  '',
);
const mayBeEmpty = new Set(
  values['may-be-empty'] !== undefined
    ? values['may-be-empty'].split(',').map((s) => s.trim())
    : EMPTY_WHEN_HEALTHY,
);

const dashboard = JSON.parse(readFileSync(values.dashboard, 'utf8'));
const checks = [...variableQueries(dashboard), ...panelQueries(dashboard)];

let failed = 0;
for (const check of checks) {
  const expr = substitute(check.expr);
  const answer = await query(expr);
  let verdict;
  if (answer.error) {
    verdict = 'ERROR';
    failed++;
  } else if (answer.numbers > 0) {
    verdict = 'data';
  } else {
    // NaN only: a quantile over a window without observations.
    verdict = answer.series > 0 ? 'NaN only' : 'empty';
    if (!values['parse-only'] && !mayBeEmpty.has(check.panel)) {
      verdict = `NO DATA (${verdict})`;
      failed++;
    }
  }
  console.log(
    `${verdict.padEnd(20)} ${String(answer.series ?? '-').padStart(3)} series  ${check.panel}${check.legend ? ` [${check.legend}]` : ''}`,
  );
  if (answer.error) console.log(`    ${answer.error}\n    ${expr}`);
}
console.log(
  `\n${checks.length} expressions against ${prometheus}: ${failed === 0 ? 'all good' : `${failed} failed`}.`,
);
process.exit(failed === 0 ? 0 : 1);

// --- helpers ---------------------------------------------------------------

function* panelQueries({ panels = [] }) {
  for (const panel of panels) {
    // A collapsed row keeps its panels inside it.
    if (panel.type === 'row') {
      yield* panelQueries(panel);
      continue;
    }
    for (const target of panel.targets ?? []) {
      if (target.expr)
        yield {
          panel: panel.title,
          legend: target.legendFormat,
          expr: target.expr,
        };
    }
  }
}

// `label_values(metric, label)` is Grafana's, not PromQL: ask for the same
// thing as a PromQL count.
function* variableQueries({ templating }) {
  for (const variable of templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const text =
      typeof variable.query === 'string'
        ? variable.query
        : variable.query?.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text?.trim() ?? '');
    if (m)
      yield {
        panel: `variable $${variable.name}`,
        expr: `count by (${m[2]}) (${m[1]})`,
      };
  }
}

function substitute(expr) {
  return expr
    .replace(/\$\{app(?::\w+)?\}|\[\[app\]\]|\$app\b/g, values.app)
    .replace(/\$__rate_interval\b/g, values['rate-interval'])
    .replace(/\$__interval\b/g, '15s')
    .replace(/\$__range\b/g, '5m');
}

async function query(expr) {
  let response;
  try {
    response = await fetch(
      `${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`,
    );
  } catch (error) {
    console.error(
      `Prometheus at ${prometheus} did not answer: ${error.cause?.message ?? error.message}`,
    );
    process.exit(2);
  }
  const body = await response.json().catch(() => ({}));
  if (body.status !== 'success')
    return {
      error: `${body.errorType ?? response.status}: ${body.error ?? response.statusText}`,
    };
  const result =
    body.data.resultType === 'vector'
      ? body.data.result
      : body.data.resultType === 'scalar'
        ? [{ value: body.data.result }]
        : [];
  return {
    series: result.length,
    numbers: result.filter((r) => Number.isFinite(Number(r.value[1]))).length,
  };
}
