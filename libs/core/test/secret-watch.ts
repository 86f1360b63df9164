/*
 * Secrets the specs hand to Chronicle (NATS passwords, tokens, seeds, signing
 * and master keys) must never be printed: `secret(value)` registers one, and
 * the watch (set up for every spec file by jest.config.js) reads everything
 * the file writes to stdout, stderr and the console, and fails the file when a
 * registered secret appears in it. Kept on globalThis, so every copy of this
 * module in one file's sandbox shares it.
 */

interface Watch {
  readonly secrets: Set<string>;
  readonly leaks: string[];
}

const KEY = Symbol.for('chronicle.test.secret-watch');

function watch(): Watch {
  const holder = globalThis as Record<symbol, Watch | undefined>;
  return (holder[KEY] ??= { secrets: new Set(), leaks: [] });
}

/** Registers `value` as a secret the file's output must never contain; returns it. */
export function secret<T extends string>(value: T): T {
  if (value.length >= 6) watch().secrets.add(value);
  return value;
}

/** Checks one piece of output; remembers the secrets it holds, without repeating them. */
function inspect(text: string, where: string): void {
  const { secrets, leaks } = watch();
  for (const value of secrets) {
    if (text.includes(value))
      leaks.push(
        `${where}: a registered secret (${value.slice(0, 3)}..., ${value.length} chars)`,
      );
  }
}

type Write = typeof process.stdout.write;

/** Starts watching the output; returns what stops it and tells the leaks. */
export function watchOutput(): () => string[] {
  const restore: (() => void)[] = [];
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    const original = stream.write;
    const patched = function (
      this: NodeJS.WriteStream,
      chunk: unknown,
      ...rest: unknown[]
    ): boolean {
      inspect(
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(),
        name,
      );
      return (original as (...args: unknown[]) => boolean).call(
        this,
        chunk,
        ...rest,
      );
    } as Write;
    stream.write = patched;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      inspect(args.map(String).join(' '), `console.${level}`);
      original.apply(console, args);
    };
    restore.push(() => {
      console[level] = original;
    });
  }
  return () => {
    for (const undo of restore) undo();
    return watch().leaks.splice(0);
  };
}
