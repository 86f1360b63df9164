import type { MessageTrace, TraceNode } from './message-trace.js';

/** The tree as indented text, one message per line. */
export function traceText(trace: MessageTrace): string {
  const lines = [
    `correlation ${trace.correlationId}: ${trace.messages} messages, ${trace.failures} ${trace.failures === 1 ? 'failure' : 'failures'}${trace.truncated ? ' (truncated: the oldest rows only)' : ''}`,
    '',
  ];
  const walk = (node: TraceNode, prefix: string, branch: string) => {
    lines.push(`${prefix}${branch}${nodeLine(node)}`);
    const childPrefix =
      prefix + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
    node.children.forEach((child, i) =>
      walk(child, childPrefix, i === node.children.length - 1 ? '└─ ' : '├─ '),
    );
  };
  walk(trace.root, '', '');
  if (trace.detached.length > 0) {
    lines.push('', 'Not caused by anything in the log:');
    for (const part of trace.detached) walk(part, '', '');
  }
  return lines.join('\n');
}

function nodeLine(node: TraceNode): string {
  const offset = `+${formatMs(node.offsetMs)}`;
  if (node.kind === 'event') {
    const consumers = (node.consumers ?? []).map(
      (c) =>
        `${c.consumer} ${c.failed ? '✗' : c.passed ? '✓' : c.stopped ? 'stopped' : '…'}`,
    );
    return [
      `event ${node.type}`,
      `${node.streamId ?? '?'}@${node.position ?? '?'}`,
      node.app ? `[${node.app}]` : undefined,
      offset,
      consumers.length > 0 ? `consumers: ${consumers.join(', ')}` : undefined,
      processText(node),
    ]
      .filter((p) => p !== undefined)
      .join('  ');
  }
  const failed = node.kind === 'error' || node.outcome !== 'ok';
  return [
    `${node.kind} ${node.type}`,
    node.id,
    `[${node.app ?? '?'}]`,
    offset,
    node.durationMs === null ? undefined : formatMs(node.durationMs),
    failed ? `✗ ${node.outcome ?? 'failed'}` : 'ok',
    node.error
      ? `${node.error.code ?? node.error.name}: ${node.error.message.split('\n')[0]}`
      : undefined,
    node.consumer ? `(consumer ${node.consumer})` : undefined,
    processText(node),
  ]
    .filter((p) => p !== undefined)
    .join('  ');
}

/** The process manager steps a message ran: `process order-fulfilment[o-1].onPaid → 1 command`. */
function processText(node: TraceNode): string | undefined {
  const steps = node.processSteps ?? [];
  if (steps.length === 0) return undefined;
  return steps
    .map((s) => {
      const sent =
        s.commands.length === 0
          ? ''
          : ` → ${s.commands.length} ${s.commands.length === 1 ? 'command' : 'commands'}`;
      return `process ${s.process}[${s.key}].${s.method}${sent}`;
    })
    .join(', ');
}

/** A duration as the CLI prints it: 3.2ms, 1.25s. */
export function formatMs(ms: number): string {
  return ms >= 1000
    ? `${(ms / 1000).toFixed(2)}s`
    : `${Number(ms.toFixed(1))}ms`;
}
