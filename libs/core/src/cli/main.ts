#!/usr/bin/env node
/*
 * `npx chronicle <command> [options]`: a tiny dispatcher. Each command is a
 * module exporting `run(args)`, loaded only when named, so one command's
 * dependencies never slow another down. Add a command with one line below.
 */

export interface CliCommand {
  readonly summary: string;
  /** Returns the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  replay: async () => (await import('./replay.js')).replayCommand,
  show: async () => {
    const { run } = await import('./show.command.js');
    return {
      summary: "print an aggregate's history and its state at a version",
      run: (args) => run([...args]),
    };
  },
  send: async () => {
    const { run } = await import('./send.command.js');
    return {
      summary:
        'send a command over NATS (or to an app run here: --module) and print its result',
      run: (args) => run('send', [...args]),
    };
  },
  query: async () => {
    const { run } = await import('./send.command.js');
    return {
      summary:
        'ask a query over NATS (or of an app run here: --module) and print its result',
      run: (args) => run('query', [...args]),
    };
  },
  rebase: async () => {
    const { run } = await import('./rebase.command.js');
    return {
      summary: 'move transaction ids below the counter after a restore',
      run: (args) => run([...args]),
    };
  },
  log: async () => {
    const { run } = await import('./log.command.js');
    return {
      summary:
        'list the message log (--type, --failed, --since 1h, --where field=value, ...)',
      run: (args) => run([...args]),
    };
  },
  trace: async () => {
    const { run } = await import('./trace.command.js');
    return {
      summary:
        'print the tree of what caused what from a message or correlation id',
      run: (args) => run([...args]),
    };
  },
  consumers: async () => {
    const { run } = await import('./consumers.command.js');
    return {
      summary:
        'list every consumer: segments, owners, positions, lag, stopped segments, dead letters',
      run: (args) => run([...args]),
    };
  },
  processes: async () => {
    const { run } = await import('./processes.command.js');
    return {
      summary:
        "list a process manager's instances: state, status, open deadlines (--key K: one, with its history)",
      run: (args) => run([...args]),
    };
  },
  'dead-letters': async () => {
    const { run } = await import('./dead-letters.command.js');
    return {
      summary:
        "list, retry or drop a consumer's parked streams and skipped events",
      run: (args) => run([...args]),
    };
  },
  keygen: async () => {
    const { run } = await import('./keygen.command.js');
    return {
      summary: 'make an ed25519 key pair for signed messages',
      run: (args) => run([...args]),
    };
  },
  'nats-permissions': async () => {
    const { run } = await import('./nats-permissions.command.js');
    return {
      summary:
        'print the NATS permissions an app needs (--module), as a nats-server authorization block',
      run: (args) => run([...args]),
    };
  },
  'forget-subject': async () => {
    const { run } = await import('./forget-subject.command.js');
    return {
      summary:
        'forget a data subject: delete its key, so its @PersonalData fields read as placeholders',
      run: (args) => run([...args]),
    };
  },
  streams: async () => {
    const { run } = await import('./streams.command.js');
    return { summary: 'list streams', run: (args) => run([...args]) };
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  const load = name ? COMMANDS[name] : undefined;
  if (!load) {
    if (name && name !== '--help' && name !== '-h')
      console.error(`Unknown command "${name}".`);
    console.error('Usage: chronicle <command> [options]\n\nCommands:');
    for (const [command, loadCommand] of Object.entries(COMMANDS)) {
      console.error(`  ${command.padEnd(17)} ${(await loadCommand()).summary}`);
    }
    return name && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  return (await load()).run(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
