import { formatMs, type MessageTrace, type TraceNode } from '@chronicle/core';
import { html, query, type Html } from '../html/index.js';

// A conversation drawn as a sequence diagram: one column (lane) per app, one
// row per message in order of time, an edge from each message to what it
// caused. Rows keep every label readable however close the timings are.

const LANE_WIDTH = 300;
const ROW_HEIGHT = 30;
const HEADER = 34;
const NODE_X = 18;
const LABEL_CHARS = 34;

interface Placed {
  readonly node: TraceNode;
  readonly parent?: TraceNode;
  readonly order: number;
}

function placeAll(trace: MessageTrace): Placed[] {
  const placed: Placed[] = [];
  const visit = (node: TraceNode, parent?: TraceNode) => {
    placed.push({ node, parent, order: placed.length });
    node.children.forEach((child) => visit(child, node));
  };
  [trace.root, ...trace.detached].forEach((part) => visit(part));
  // By time; the tree's order keeps a cause ahead of what it caused at equal times.
  return placed.sort(
    (a, b) => a.node.offsetMs - b.node.offsetMs || a.order - b.order,
  );
}

/** Whether a node shows red: a failed or rejected handling, or an error message. */
export function isFailure(node: TraceNode): boolean {
  return (
    (node.outcome !== null && node.outcome !== 'ok') ||
    node.kind === 'error' ||
    (node.consumers ?? []).some((c) => c.failed || c.stopped)
  );
}

function failureText(node: TraceNode): string {
  if (node.outcome !== null && node.outcome !== 'ok') return node.outcome;
  if (node.kind === 'error') return 'handler failed';
  return 'a consumer failed';
}

const laneOf = (node: TraceNode) => node.app ?? '(no app)';

function short(text: string): string {
  return text.length > LABEL_CHARS
    ? `${text.slice(0, LABEL_CHARS - 1)}…`
    : text;
}

function timing(node: TraceNode): string {
  const offset = `+${formatMs(node.offsetMs)}`;
  return node.durationMs === null
    ? offset
    : `${offset} · ${formatMs(node.durationMs)}`;
}

/** The trace as an inline SVG; `base` is the console's path, for the nodes' links. */
export function traceSvg(
  trace: MessageTrace,
  base: string,
  selected?: string,
): Html {
  const rows = placeAll(trace);
  const lanes = [...new Set(rows.map((r) => laneOf(r.node)))];
  const width = Math.max(lanes.length, 1) * LANE_WIDTH;
  const height = HEADER + rows.length * ROW_HEIGHT + 10;
  const at = new Map<TraceNode, { x: number; y: number }>();
  rows.forEach((row, i) => {
    at.set(row.node, {
      x: lanes.indexOf(laneOf(row.node)) * LANE_WIDTH + NODE_X,
      y: HEADER + i * ROW_HEIGHT + ROW_HEIGHT / 2,
    });
  });

  const laneBands = lanes.map(
    (lane, i) =>
      html`<g class="lane">
        <rect
          x="${i * LANE_WIDTH}"
          y="0"
          width="${LANE_WIDTH}"
          height="${height}"
          class="${i % 2 ? 'lane-odd' : 'lane-even'}"
        />
        <text x="${i * LANE_WIDTH + 10}" y="21" class="lane-name"
          >${lane}</text
        ></g
      >`,
  );
  const edges = rows
    .filter((row) => row.parent && at.has(row.parent))
    .map((row) => {
      const from = at.get(row.parent!)!;
      const to = at.get(row.node)!;
      const bend = from.y + (to.y - from.y) / 2;
      return html`<path
        class="edge"
        d="M${from.x} ${from.y} C${from.x} ${bend} ${to.x} ${bend} ${to.x} ${to.y}"
      />`;
    });
  const nodes = rows.map(({ node }) => {
    const { x, y } = at.get(node)!;
    const failed = isFailure(node);
    const href =
      node.kind === 'event' && node.streamId
        ? `${base}/aggregates${query({ stream: node.streamId })}`
        : `${base}/messages/${encodeURIComponent(node.id)}`;
    const classes = `node kind-${node.kind}${failed ? ' failed' : ''}${node.id === selected ? ' selected' : ''}`;
    const detail = [
      `${node.kind} ${node.type}`,
      `id ${node.id}`,
      node.app &&
        `app ${node.app}${node.instance ? ` (${node.instance})` : ''}`,
      node.streamId && `stream ${node.streamId} @ ${node.position}`,
      node.error && `${node.error.name}: ${node.error.message}`,
      ...(node.consumers ?? []).map(
        (c) =>
          `consumer ${c.consumer}: ${c.failed ? 'failed' : c.stopped ? 'stopped' : c.passed ? 'passed' : 'behind'}`,
      ),
    ].filter(Boolean);
    return html`<a href="${href}" class="${classes}" data-kind="${node.kind}">
      <title>${detail.join('\n')}</title>
      <circle cx="${x}" cy="${y}" r="${node.kind === 'event' ? 5 : 7}" />
      <text x="${x + 14}" y="${y - 2}" class="label">${short(node.type)}</text>
      <text x="${x + 14}" y="${y + 10}" class="timing"
        >${node.kind}
        ${timing(node)}${failed ? ` · ${failureText(node)}` : ''}</text
      ></a
    >`;
  });
  return html`<svg
    class="trace"
    xmlns="http://www.w3.org/2000/svg"
    width="${width}"
    height="${height}"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="Correlation tree of ${trace.correlationId}: ${trace.messages} messages, ${trace.failures} failures"
  >
    ${laneBands}${edges}${nodes}
  </svg>`;
}
