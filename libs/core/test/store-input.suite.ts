import {
  InvalidAppendError,
  InvalidIdError,
  UnstorableTextError,
  type NewEvent,
  type PostgresEventStore,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';
import { event } from './event-store.suite.js';

async function rowCount(store: PostgresEventStore): Promise<number> {
  const [events] = await store.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${store.schema.events}`,
  );
  const [commands] = await store.client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${store.schema.handledCommands}`,
  );
  return events.n + commands.n;
}

/**
 * What the store refuses with a typed error before PostgreSQL sees it (which
 * would answer `22P05 unsupported Unicode escape sequence` or `index row size
 * ... exceeds btree version 4 maximum 2704`), storing nothing.
 */
export function storeInputSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;

  beforeEach(async () => {
    store = await database().freshStore();
  });

  async function refuses(
    append: () => Promise<unknown>,
    type: new (...args: never[]) => Error,
    message: RegExp,
  ): Promise<void> {
    const error = await append().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect(await rowCount(store)).toBe(0);
  }

  it.each([
    ['a NUL', 'order-\u0000', /U\+0000/],
    ['an unpaired surrogate', 'order-\ud800', /unpaired surrogate/],
    ['a line break', 'order-1\n', /U\+000A/],
    ['3000 characters', `order-${'x'.repeat(3000)}`, /at most 512/],
    ['a space at the end', 'order-1 ', /space/],
    ['nothing', '', /empty/],
  ])('refuses a stream id with %s', async (_, streamId, message) => {
    await refuses(
      () => store.append(streamId, [event()]),
      InvalidIdError,
      message,
    );
    await expect(store.streamVersion(streamId)).rejects.toThrow(InvalidIdError);
  });

  it('refuses an event type with a line break, and one of several kilobytes', async () => {
    await refuses(
      () => store.append('s-1', [event('t.Happened\n')]),
      InvalidIdError,
      /type of an event of stream "s-1"/,
    );
    await refuses(
      () => store.append('s-1', [event(`t.${'X'.repeat(3000)}`)]),
      InvalidIdError,
      /at most 256/,
    );
  });

  it('refuses an event id that is not a UUID (the column is uuid)', async () => {
    await refuses(
      () => store.append('s-1', [{ ...event(), id: 'not-a-uuid' }]),
      InvalidIdError,
      /must be a UUID/,
    );
  });

  it.each([
    ['-1', -1],
    ['0', 0],
    ['"abc"', 'abc'],
    ['1.5', 1.5],
  ])('refuses a revision of %s', async (_, revision) => {
    const bad = { ...event(), revision } as unknown as NewEvent;
    await refuses(
      () => store.append('s-1', [bad]),
      InvalidAppendError,
      /revision .* whole number from 1/,
    );
  });

  it('refuses an invalid timestamp and metadata that is not an object', async () => {
    await refuses(
      () => store.append('s-1', [{ ...event(), timestamp: new Date('x') }]),
      InvalidAppendError,
      /timestamp .* valid Date/,
    );
    const stringMetadata = {
      ...event(),
      metadata: 'abc',
    } as unknown as NewEvent;
    await refuses(
      () => store.append('s-1', [stringMetadata]),
      InvalidAppendError,
      /metadata .* plain object/,
    );
  });

  it('refuses a payload or metadata holding \\u0000 or an unpaired surrogate, naming where', async () => {
    await refuses(
      () =>
        store.append('s-1', [event('t.Noted', { note: { text: 'a\u0000b' } })]),
      UnstorableTextError,
      /payload of t\.Noted .*NUL.* at note\.text/,
    );
    await refuses(
      () => store.append('s-1', [event('t.Noted', { tags: ['ok', '\udc00'] })]),
      UnstorableTextError,
      /unpaired surrogate at tags\[1\]/,
    );
    const metadata = {
      ...event(),
      metadata: { correlationId: 'c', who: '\u0000' },
    };
    await refuses(
      () => store.append('s-1', [metadata]),
      UnstorableTextError,
      /metadata of test\.Happened .* at who/,
    );
  });

  it('stores text that only looks like an escape, and paired surrogates', async () => {
    const payload = { literal: '\\u0000 and \\\\ud800', emoji: '😀' };
    await store.append('s-1', [event('t.Noted', payload)]);
    const [stored] = await (async () => {
      const out = [];
      for await (const e of store.readStream('s-1')) out.push(e);
      return out;
    })();
    expect(stored.payload).toEqual(payload);
  });

  it('refuses a command record with a bad id or an unstorable result', async () => {
    await refuses(
      () =>
        store.appendToStreams([], {
          handledCommand: {
            id: `c-${'1'.repeat(3000)}`,
            type: 't.Do',
            result: 1,
          },
        }),
      InvalidIdError,
      /command id .* at most 256/,
    );
    await refuses(
      () =>
        store.appendToStreams([], {
          handledCommand: {
            id: 'c-1',
            type: 't.Do',
            result: { text: '\u0000' },
          },
        }),
      UnstorableTextError,
      /result of t\.Do .* at text/,
    );
    await expect(store.findHandledCommand('c-\u0000')).rejects.toThrow(
      InvalidIdError,
    );
  });
}
