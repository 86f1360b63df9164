import {
  newMessageId,
  PostgresEventStore,
  type SqlClient,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';

/** A client that counts the statements sent through it, and changes nothing else. */
function counting(client: SqlClient): {
  client: SqlClient;
  statements: () => number;
} {
  let statements = 0;
  const wrapped = new Proxy(client, {
    get(target, key, receiver) {
      if (key === 'query') {
        return (...args: Parameters<SqlClient['query']>) => {
          statements++;
          return target.query(...args);
        };
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { client: wrapped, statements: () => statements };
}

/** Looking command records up: concurrent lookups share statements, each gets its own answer. */
export function commandLookupsSuite(database: () => TestDatabase): void {
  it('answers 60 concurrent lookups, recorded or not, in fewer statements than lookups', async () => {
    const seeded = await database().freshStore();
    const recorded = Array.from({ length: 30 }, (_, i) => ({
      id: newMessageId(),
      type: 'lookups.Recorded',
      result: { n: i },
    }));
    for (const command of recorded) {
      await seeded.appendToStreams([], { handledCommand: command });
    }
    const { client, statements } = counting(database().client());
    const store = new PostgresEventStore(client, seeded.schema);
    const unknown = Array.from({ length: 25 }, () => newMessageId());
    // Five ids asked twice at once: both callers get the record.
    const asked = [
      ...recorded.map((c) => c.id),
      ...unknown,
      ...recorded.slice(0, 5).map((c) => c.id),
    ];

    const answers = await Promise.all(
      asked.map((id) => store.findHandledCommand(id)),
    );

    asked.forEach((id, i) => {
      const command = recorded.find((c) => c.id === id);
      expect(answers[i]).toEqual(command);
    });
    expect(statements()).toBeLessThan(asked.length / 2);
  });

  it('looks a lone command up at once, and sees a record committed just before', async () => {
    const store = await database().freshStore();
    const command = { id: newMessageId(), type: 'lookups.Lone', result: null };
    expect(await store.findHandledCommand(command.id)).toBeUndefined();
    await store.appendToStreams([], { handledCommand: command });
    expect(await store.findHandledCommand(command.id)).toEqual(command);
  });

  it('inside a transaction, sees the record written in it', async () => {
    const store = await database().freshStore();
    const command = { id: newMessageId(), type: 'lookups.InTx', result: 7 };
    const seen = await store.transaction(async (bound) => {
      await bound.appendToStreams([], { handledCommand: command });
      return Promise.all([
        bound.findHandledCommand(command.id),
        bound.findHandledCommand(command.id),
      ]);
    });
    expect(seen).toEqual([command, command]);
  });
}
