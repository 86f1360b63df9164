import type { LogRow } from './logged-message.js';
import { buildTrace, type TraceNode } from './message-trace.js';

function logRow(
  id: string,
  second: number,
  fields: Partial<LogRow> = {},
): LogRow {
  return {
    kind: 'command',
    logged_at_text: `2026-12-04 10:00:${String(second).padStart(2, '0')}.000000+00`,
    id,
    type: `t.${id}`,
    revision: 1,
    payload: {},
    metadata: {},
    correlation_id: 'c',
    causation_id: null,
    app: 'app',
    instance: 'i',
    sender_app: null,
    finished_at: null,
    duration_ms: 1,
    outcome: 'ok',
    result: null,
    error: null,
    error_code: null,
    streams: null,
    positions: null,
    ...fields,
  };
}

const ids = (node: TraceNode): unknown => ({
  [node.id]: node.children.map(ids),
});

describe('buildTrace', () => {
  it('roots the tree at the message the correlation id names, even when another is older', () => {
    const trace = buildTrace(
      'c',
      [
        logRow('early', 1, { causation_id: 'not-logged' }),
        logRow('c', 2),
        logRow('child', 3, { causation_id: 'c' }),
      ],
      [],
      [],
      false,
    );
    expect(trace && ids(trace.root)).toEqual({ c: [{ child: [] }] });
    expect(trace?.detached.map((d) => d.id)).toEqual(['early']);
    expect(trace?.root.offsetMs).toBe(0);
    expect(trace?.detached[0].offsetMs).toBe(-1000);
  });

  it('nests a second row of the same id under the first (a schedule and the command it delivered)', () => {
    const trace = buildTrace(
      'c',
      [
        logRow('c', 1, { kind: 'schedule' }),
        logRow('c', 2, { kind: 'command', positions: ['7'] }),
      ],
      [
        {
          position: '7',
          id: 'e-7',
          stream_id: 's-1',
          type: 'Happened',
          created_at: '2026-12-04 10:00:02.5+00',
          causation_id: 'c',
        },
      ],
      [],
      false,
    );
    expect(trace && ids(trace.root)).toEqual({ c: [{ c: [{ 'e-7': [] }] }] });
    expect(trace?.root.children[0].children[0]).toMatchObject({
      kind: 'event',
      streamId: 's-1',
      position: '7',
      app: 'app',
      offsetMs: 1500,
    });
  });

  it('puts a schedule delivery above the command it delivered when both rows have the same id and time', () => {
    const trace = buildTrace(
      'c',
      [
        logRow('x', 1, { kind: 'command', causation_id: 'c' }),
        logRow('x', 1, { kind: 'schedule', causation_id: 'c' }),
        logRow('c', 0),
      ],
      [],
      [],
      false,
    );
    const delivery = trace?.root.children[0];
    expect(delivery?.kind).toBe('schedule');
    expect(delivery?.children.map((c) => c.kind)).toEqual(['command']);
  });

  it('detaches a cycle of causation ids instead of losing it', () => {
    const trace = buildTrace(
      'c',
      [
        logRow('c', 1),
        logRow('x', 2, { causation_id: 'y' }),
        logRow('y', 3, { causation_id: 'x' }),
      ],
      [],
      [],
      false,
    );
    expect(trace?.messages).toBe(3);
    expect(trace && ids(trace.root)).toEqual({ c: [] });
    expect(trace?.detached).toHaveLength(1);
  });

  it('counts failures: outcomes not ok and error messages', () => {
    const trace = buildTrace(
      'c',
      [
        logRow('c', 1),
        logRow('r', 2, { causation_id: 'c', outcome: 'rejected' }),
        logRow('e', 3, { causation_id: 'c', kind: 'error', outcome: 'failed' }),
      ],
      [],
      [],
      true,
    );
    expect(trace?.failures).toBe(2);
    expect(trace?.truncated).toBe(true);
  });

  it('puts a process step on the message that ran it, naming the method even when the key holds colons', () => {
    const trace = buildTrace('c', [logRow('c', 1)], [], [], false, [
      {
        event_id: 'c',
        name: 'fulfilment',
        key: 'shop:o:1',
        handler: 'process:fulfilment:shop:o:1:onPlaced',
        commands: ['cmd-1'],
        handled_at: '2026-12-04 10:00:01.500000+00',
      },
      {
        event_id: 'not-in-the-trace',
        name: 'fulfilment',
        key: 'x',
        handler: 'process:fulfilment:x:onPlaced',
        commands: [],
        handled_at: '2026-12-04 10:00:02.000000+00',
      },
    ]);
    expect(trace?.root.processSteps).toEqual([
      {
        process: 'fulfilment',
        key: 'shop:o:1',
        method: 'onPlaced',
        commands: ['cmd-1'],
        at: '2026-12-04T10:00:01.500Z',
      },
    ]);
  });

  it('gives nothing for nothing', () => {
    expect(buildTrace('c', [], [], [], false)).toBeUndefined();
  });
});
