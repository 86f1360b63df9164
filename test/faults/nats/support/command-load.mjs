// The calling side of the NATS fault tests, in a process of its own: WORKERS
// loops each send RecordEntry commands, one at a time, each with an id of its
// own. A send that fails (not sent, timed out, in doubt, no handler yet) is
// sent again with the SAME id until it is acknowledged: the receiver's
// command record makes that safe. Prints `progress {...}` every 200 ms; on
// `stop` (stdin) it sends nothing new, finishes its resends, prints
// `summary {...}` and exits.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ChronicleModule, CommandType, MessageGateway } from '@chronicle/core';

const env = process.env;
const WORKERS = Number(env.WORKERS ?? 4);
const RETRY_MS = Number(env.RETRY_MS ?? 100);
// How long resends go on after `stop` before a command is given up as unacknowledged.
const FINAL_MS = Number(env.FINAL_MS ?? 20_000);

class RecordEntry {
  constructor(entry) {
    this.entry = entry;
  }
}
CommandType('faults.RecordEntry')(RecordEntry);

class CallerModule {}
Module({
  imports: [
    ChronicleModule.forRoot({
      app: env.APP_NAME ?? 'faults-caller',
      database: { url: env.DATABASE_URL, schema: env.SCHEMA, poolSize: 2 },
      transport: {
        namespace: env.NAMESPACE,
        timeoutMs: Number(env.TIMEOUT_MS ?? 3_000),
        nats: {
          servers: env.NATS_SERVERS,
          token: env.NATS_TOKEN || undefined,
          name: env.NATS_NAME,
          reconnectTimeWaitMs: 100,
        },
      },
    }),
  ],
})(CallerModule);

const app = await NestFactory.createApplicationContext(CallerModule, {
  logger: ['error', 'warn'],
});
const gateway = app.get(MessageGateway);

const attempted = [];
const acknowledged = [];
const unacknowledged = [];
const wrongAnswers = [];
const failures = new Map(); // kind -> { count, withoutMessageId, example }
let failed = 0;
let resent = 0;
let stopAt;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function recordFailure(error, id) {
  failed++;
  if (env.DEBUG_FAILURES)
    process.stderr.write(`${Date.now() % 100000} ${id} ${error?.message}\n`);
  const kind = `${error?.constructor?.name ?? typeof error}/${error?.code ?? '-'}`;
  const entry = failures.get(kind) ?? {
    count: 0,
    withoutMessageId: 0,
    examples: [],
  };
  entry.count++;
  // Ids made alike, so that one kind shows its distinct messages, not its ids.
  const message = String(error?.message ?? error)
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '<id>')
    .slice(0, 240);
  if (entry.examples.length < 3 && !entry.examples.includes(message))
    entry.examples.push(message);
  // Every transport error should name the message it was about (issue 12, points 3 and 20).
  if (error?.messageId !== id) entry.withoutMessageId++;
  failures.set(kind, entry);
}

/** Sends one command until it is acknowledged, always with the same id. */
async function deliver(id) {
  const command = new RecordEntry(id);
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) resent++;
    try {
      const result = await gateway.send(command, { id });
      if (result?.entry !== id) wrongAnswers.push({ id, result });
      acknowledged.push(id);
      return;
    } catch (error) {
      recordFailure(error, id);
      if (stopAt !== undefined && Date.now() > stopAt + FINAL_MS) {
        unacknowledged.push(id);
        return;
      }
      await sleep(RETRY_MS);
    }
  }
}

async function worker() {
  while (stopAt === undefined) {
    const id = randomUUID();
    attempted.push(id);
    await deliver(id);
  }
}

const progress = () =>
  process.stdout.write(
    `progress ${JSON.stringify({
      attempted: attempted.length,
      acknowledged: acknowledged.length,
      failed,
    })}\n`,
  );
const ticker = setInterval(progress, 200);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop' && stopAt === undefined) stopAt = Date.now();
});

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: WORKERS }, worker));
clearInterval(ticker);
progress();
process.stdout.write(
  `summary ${JSON.stringify({
    attempted,
    acknowledged,
    unacknowledged,
    wrongAnswers,
    failed,
    resent,
    failures: Object.fromEntries(failures),
  })}\n`,
);
await app.close();
process.exit(0);
