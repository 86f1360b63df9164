#!/usr/bin/env node
// A tiny trace viewer for when Jaeger is not at hand: an OTLP/HTTP JSON
// receiver (POST /v1/traces, what @opentelemetry/exporter-trace-otlp-http
// sends by default) that keeps the spans in memory and serves its own pages:
// GET / lists the traces, GET /trace/<id> draws one as a waterfall, and
// GET /api/trace/<id> returns its spans as JSON. No dependencies, no assets.
//
//   node scripts/trace-view.mjs [--port 4318] [--host 127.0.0.1]
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm run start:orders
//
// Protobuf (http/protobuf) is refused with 415: this parses JSON only.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4318' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-spans': { type: 'string', default: '200000' },
  },
});
const maxSpans = Number(values['max-spans']);

/** traceId -> Map(spanId -> span), oldest trace first (Map keeps insertion order). */
const traces = new Map();
let spanCount = 0;
/** service -> colour, in the order services are first seen, so a service keeps its colour on every page. */
const colour = new Map();

const KINDS = [
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
];
const PALETTE = [
  '#2f6fb3',
  '#d9822b',
  '#2e9e5b',
  '#b8336a',
  '#7a5cc2',
  '#8c6d1f',
  '#1c9aa6',
  '#c0392b',
];

// The JS exporter writes ids as hex; other exporters may write base64.
function hexId(id) {
  if (typeof id !== 'string' || id === '') return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 16 || id.length === 32)
    ? id.toLowerCase()
    : Buffer.from(id, 'base64').toString('hex');
}

// Nanoseconds as a string, a number, or a protobufjs Long ({ low, high }).
function nanos(t) {
  if (t && typeof t === 'object')
    return BigInt(t.high >>> 0) * 2n ** 32n + BigInt(t.low >>> 0);
  return BigInt(t ?? 0);
}

function anyValue(v) {
  if (!v || typeof v !== 'object') return v;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValue);
  return JSON.stringify(v);
}

const attributes = (list) =>
  Object.fromEntries((list ?? []).map((a) => [a.key, anyValue(a.value)]));

function receive(body) {
  for (const rs of body.resourceSpans ?? []) {
    const service =
      attributes(rs.resource?.attributes)['service.name'] ?? 'unknown';
    if (!colour.has(service))
      colour.set(service, PALETTE[colour.size % PALETTE.length]);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const span = {
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: hexId(s.parentSpanId),
          name: s.name,
          kind: KINDS[s.kind ?? 0] ?? String(s.kind),
          service,
          start: nanos(s.startTimeUnixNano),
          end: nanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          status:
            s.status?.code === 2
              ? `ERROR ${s.status.message ?? ''}`.trim()
              : 'OK',
          links: (s.links ?? []).map((l) => ({
            traceId: hexId(l.traceId),
            spanId: hexId(l.spanId),
          })),
        };
        if (!traces.has(span.traceId)) traces.set(span.traceId, new Map());
        traces.get(span.traceId).set(span.spanId, span);
        spanCount++;
      }
    }
  }
  // Forget the oldest traces past the limit, so a long run does not eat memory.
  for (const [id, spans] of traces) {
    if (spanCount <= maxSpans) break;
    spanCount -= spans.size;
    traces.delete(id);
  }
}

/** Where a span id is known: the span, with its trace id. */
function findSpan(spanId) {
  for (const spans of traces.values())
    if (spans.has(spanId)) return spans.get(spanId);
  return undefined;
}

function summary(id, spans) {
  const all = [...spans.values()];
  const start = all.reduce((m, s) => (s.start < m ? s.start : m), all[0].start);
  const end = all.reduce((m, s) => (s.end > m ? s.end : m), all[0].end);
  const root = all.find((s) => !spans.has(s.parentSpanId)) ?? all[0];
  // Services in the order they joined the trace: the caller first.
  const services = [
    ...new Set(
      [...all]
        .sort((a, b) => (a.start < b.start ? -1 : 1))
        .map((s) => s.service),
    ),
  ];
  return {
    id,
    root,
    start,
    end,
    services,
    count: all.length,
    errors: all.filter((s) => s.status !== 'OK').length,
  };
}

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const ms = (ns) => `${(Number(ns) / 1e6).toFixed(ns < 10_000_000n ? 2 : 1)} ms`;
const time = (ns) =>
  new Date(Number(ns / 1_000_000n)).toISOString().slice(11, 23);

const CSS = `
body{font:13px/1.35 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:17px;margin:0 0 6px}h1 a{color:inherit}
table{border-collapse:collapse;width:100%}
th{text-align:left;font-weight:600;border-bottom:1px solid #bbb;padding:3px 6px}
td{padding:2px 6px;border-bottom:1px solid #eee;vertical-align:top;white-space:nowrap}
.name{max-width:470px;overflow:hidden;text-overflow:ellipsis}
.bar{position:relative;width:100%;min-width:380px;height:14px;background:#f4f4f4}
.bar span{position:absolute;top:0;height:14px;min-width:2px;border-radius:2px}
.link{font-size:11px;color:#555}.link a{color:#555}
.svc{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.err{color:#c0392b;font-weight:600}.dim{color:#777}
.legend{margin:6px 0 10px}.legend .svc{margin-right:6px}`;

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>${body}</body></html>`;
}

function listPage() {
  const rows = [...traces]
    .map(([id, spans]) => summary(id, spans))
    .sort(
      (a, b) =>
        b.services.length - a.services.length || Number(b.start - a.start),
    )
    .slice(0, 500);
  const tr = rows.map(
    (r) =>
      `<tr><td><a href="/trace/${r.id}">${r.id.slice(0, 12)}</a></td><td class="name">${esc(r.root.service)}: ${esc(r.root.name)}</td>` +
      `<td>${r.services.map((s) => `<span class="svc" style="background:${colour.get(s)}">${esc(s)}</span>`).join(' ')}</td>` +
      `<td>${r.count}</td><td>${ms(r.end - r.start)}</td><td>${time(r.start)}</td><td class="err">${r.errors || ''}</td></tr>`,
  );
  return page(
    'Traces',
    `<h1>Traces</h1><p class="dim">${traces.size} traces, ${spanCount} spans, most services first (500 shown). Times UTC.</p>` +
      `<table><tr><th>trace</th><th>root span</th><th>services</th><th>spans</th><th>duration</th><th>start</th><th>errors</th></tr>${tr.join('')}</table>`,
  );
}

/** Spans in tree order (children by start time), each with its depth. */
function tree(spans) {
  const children = new Map();
  const roots = [];
  for (const s of spans.values()) {
    if (spans.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else roots.push(s);
  }
  const byStart = (a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
  const out = [];
  const walk = (s, depth) => {
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort(byStart))
      walk(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) walk(r, 0);
  return out;
}

function linkHtml(link, spans) {
  const target = spans.get(link.spanId) ?? findSpan(link.spanId);
  const label = target
    ? `${esc(target.service)}: ${esc(target.name)}`
    : `span ${link.spanId.slice(0, 8)} (not received)`;
  const where =
    link.traceId === target?.traceId && spans.has(link.spanId)
      ? 'this trace'
      : `trace ${link.traceId.slice(0, 8)}`;
  return `<div class="link">↪ link to <a href="/trace/${link.traceId}#${link.spanId}">${label}</a> (${where})</div>`;
}

function tracePage(id) {
  const spans = traces.get(id);
  if (!spans) return undefined;
  const sum = summary(id, spans);
  const total = sum.end - sum.start || 1n;
  const rows = tree(spans).map(({ span: s, depth }) => {
    const left = (Number(s.start - sum.start) / Number(total)) * 100;
    const width = (Number(s.end - s.start) / Number(total)) * 100;
    const orphan =
      s.parentSpanId && !spans.has(s.parentSpanId)
        ? ' <span class="dim">(parent not received)</span>'
        : '';
    const title = Object.entries(s.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    return (
      `<tr id="${s.spanId}" title="${esc(title)}"><td class="name" style="padding-left:${6 + depth * 16}px">` +
      `<span class="svc" style="background:${colour.get(s.service)}">${esc(s.service)}</span> ${esc(s.name)}${orphan}` +
      `${s.links.map((l) => linkHtml(l, spans)).join('')}</td>` +
      `<td>${s.kind}</td><td${s.status === 'OK' ? '' : ' class="err"'}>${esc(s.status)}</td><td>${ms(s.end - s.start)}</td>` +
      `<td style="width:45%"><div class="bar"><span style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%;background:${colour.get(s.service)}"></span></div></td></tr>`
    );
  });
  const legend = sum.services
    .map(
      (s) =>
        `<span class="svc" style="background:${colour.get(s)}">${esc(s)}</span>`,
    )
    .join('');
  return page(
    `Trace ${id}`,
    `<h1><a href="/">Traces</a> / ${esc(sum.root.name)}</h1>` +
      `<p class="dim">trace ${id} · ${sum.count} spans · ${sum.services.length} services · ${ms(total)} · started ${time(sum.start)} UTC</p>` +
      `<div class="legend">${legend}</div>` +
      `<table><tr><th>span</th><th>kind</th><th>status</th><th>duration</th><th>timeline (${ms(total)})</th></tr>${rows.join('')}</table>`,
  );
}

const json = (value) =>
  JSON.stringify(
    value,
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
    2,
  );

const server = createServer((req, res) => {
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/v1/traces') {
    if (!String(req.headers['content-type']).includes('json'))
      return send(
        415,
        'text/plain',
        'JSON only: set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json\n',
      );
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        receive(JSON.parse(raw.toString('utf8')));
        send(200, 'application/json', '{}');
      } catch (error) {
        send(400, 'text/plain', `unreadable: ${error.message}\n`);
      }
    });
    return;
  }
  if (req.method !== 'GET')
    return send(405, 'text/plain', 'GET or POST /v1/traces\n');
  if (url.pathname === '/')
    return send(200, 'text/html; charset=utf-8', listPage());
  const [, api, id] =
    /^(\/api)?\/trace\/([0-9a-f]{32})$/.exec(url.pathname) ?? [];
  const spans = id && traces.get(id);
  if (spans && api)
    return send(200, 'application/json', json([...spans.values()]));
  if (spans) return send(200, 'text/html; charset=utf-8', tracePage(id));
  send(404, 'text/plain', 'no such trace\n');
});

server.listen(Number(values.port), values.host, () => {
  console.log(
    `trace-view: OTLP/HTTP JSON at http://${values.host}:${values.port}/v1/traces, pages at http://${values.host}:${values.port}/`,
  );
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
