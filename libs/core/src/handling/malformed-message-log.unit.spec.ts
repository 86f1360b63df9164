import { MalformedMessageError } from '../transport/index.js';
import { MalformedMessageLog } from './malformed-message-log.js';

/** A logger that keeps its lines, and timers the test fires by hand. */
function captured() {
  const lines: { level: 'warn' | 'error'; text: string; stack?: string }[] = [];
  const due: (() => void)[] = [];
  const log = new MalformedMessageLog(
    {
      warn: (text: unknown) =>
        void lines.push({ level: 'warn', text: String(text) }),
      error: (text: unknown, stack?: unknown) =>
        void lines.push({
          level: 'error',
          text: String(text),
          stack: stack === undefined ? undefined : String(stack),
        }),
    },
    10_000,
    (fn) => void due.push(fn),
  );
  const elapse = () => due.splice(0).forEach((fn) => fn());
  return { log, lines, elapse };
}

const garbage = (i: number) =>
  new MalformedMessageError(
    `Message to t.Ping has no Chronicle-Message-Id header (#${i}).`,
  );

describe('the log of malformed messages', () => {
  it('logs the first in full without a stack, counts the rest, and sums them up once per interval', () => {
    const { log, lines, elapse } = captured();
    for (let i = 0; i < 20_000; i++)
      log.record('chronicle.ns.command.t.Ping', '(no id)', garbage(i));
    expect(log.total).toBe(20_000);
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('warn');
    expect(lines[0].stack).toBeUndefined();
    expect(lines[0].text).toMatch(
      /Refused a malformed message on chronicle\.ns\.command\.t\.Ping .*#0/,
    );

    elapse();
    expect(lines).toHaveLength(2);
    expect(lines[1].text).toMatch(
      /Refused 19999 more malformed messages .*\(20000 since start\); the last: .*#19999/,
    );

    // Quiet: nothing more to say.
    elapse();
    expect(lines).toHaveLength(2);
    for (let i = 0; i < 5; i++)
      log.record('chronicle.ns.command.t.Ping', 'm', garbage(i));
    expect(lines).toHaveLength(2);
    elapse();
    expect(lines).toHaveLength(3);
    expect(lines[2].text).toMatch(/Refused 5 more/);
  });

  it('keeps a count and an interval per subject', () => {
    const { log, lines } = captured();
    log.record('chronicle.ns.command.a', 'm-1', garbage(1));
    log.record('chronicle.ns.command.b', 'm-2', garbage(2));
    log.record('chronicle.ns.command.b', 'm-3', garbage(3));
    expect(lines).toHaveLength(2);
    expect(log.bySubject()).toEqual({
      'chronicle.ns.command.a': 1,
      'chronicle.ns.command.b': 2,
    });
  });

  it('logs an unexpected error with its stack, and what is left at shutdown', () => {
    const { log, lines } = captured();
    log.record('s', 'm-1', new TypeError('cannot read x of undefined'));
    log.record('s', 'm-2', new TypeError('again'));
    expect(lines[0].level).toBe('error');
    expect(lines[0].stack).toContain('TypeError');
    log.flush();
    expect(lines[1].text).toMatch(/Refused 1 more malformed message on s/);
  });
});
