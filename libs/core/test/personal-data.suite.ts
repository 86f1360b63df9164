import { randomBytes, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import {
  aggregateRepositoryToken,
  CommandBus,
  EventStore,
  KeyStore,
  MessageLogWriter,
  PersonalDataCipher,
  PersonalDataService,
  PersonalDataUnreadableError,
  SnapshotWriter,
  TrackingService,
  type AggregateRepository,
  type PostgresEventStore,
  type StoredDataKey,
  type StoredEvent,
} from '../src/index.js';
import { run as forgetSubjectCommand } from '../src/cli/forget-subject.command.js';
import { run as showCommand } from '../src/cli/show.command.js';
import { DATABASE_URL, freshSchema, type TestDatabase } from './databases.js';
import {
  Customer,
  CUSTOMER_TYPE,
  customersApp,
  Directory,
  RegisterCustomer,
  RenameCustomer,
} from './personal-data.fixture.js';
import { waitUntil } from './wait-until.js';
import { secret } from './secret-watch.js';

const streamOf = (id: string) => `${CUSTOMER_TYPE}-${id}`;

/** Personal data sealed in the store and forgotten: what a user relies on for erasure requests. */
export function personalDataSuite(database: () => TestDatabase): void {
  const apps: INestApplicationContext[] = [];
  let schema: string;

  async function start(options: Parameters<typeof customersApp>[2] = {}) {
    const app = await customersApp(database().client(), schema, options);
    apps.push(app);
    return {
      app,
      store: app.get(EventStore) as PostgresEventStore,
      customers: app.get<AggregateRepository<Customer>>(
        aggregateRepositoryToken(Customer),
      ),
      commands: app.get(CommandBus),
      personalData: app.get(PersonalDataService),
      directory: app.get(Directory),
      tracking: app.get(TrackingService),
    };
  }

  async function rawPayloads(streamId: string) {
    const rows = await database()
      .client()
      .query<{ payload: Record<string, unknown> }>(
        `SELECT payload FROM "${schema}".events WHERE stream_id = $1 ORDER BY stream_version`,
        [streamId],
      );
    return rows.map((r) => r.payload);
  }

  async function readStream(store: PostgresEventStore, streamId: string) {
    const events: StoredEvent[] = [];
    for await (const event of store.readStream(streamId)) events.push(event);
    return events.map((e) => e.payload);
  }

  async function tableText(table: string): Promise<string> {
    const rows = await database()
      .client()
      .query<{ text: string | null }>(
        `SELECT string_agg(t::text, ' ') AS text FROM "${schema}".${table} t`,
      );
    return rows[0].text ?? '';
  }

  /** The subjects recorded as forgotten, in order (documents follow them). */
  async function recordedForgets(): Promise<string[]> {
    const rows = await database()
      .client()
      .query<{ subject_id: string }>(
        `SELECT subject_id FROM "${schema}".forgotten_subjects ORDER BY seq`,
      );
    return rows.map((r) => r.subject_id);
  }

  beforeEach(() => {
    schema = freshSchema('pd');
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await database().client().exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('stores personal fields encrypted and reads them back through the store, an aggregate and a consumer', async () => {
    const { store, customers, commands, directory } = await start();
    await commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com', 'gold'),
    );

    const [raw] = await rawPayloads(streamOf('c1'));
    expect(raw.customerId).toBe('c1');
    expect(raw.plan).toBe('gold');
    expect(raw.name).toEqual({ $enc: expect.stringMatching(/^v1\./) });
    expect(raw.email).toEqual({ $enc: expect.stringMatching(/^v1\./) });
    expect(JSON.stringify(raw)).not.toContain('Ann');
    expect(JSON.stringify(raw)).not.toContain('ann@example.com');

    expect(await readStream(store, streamOf('c1'))).toEqual([
      {
        customerId: 'c1',
        name: 'Ann Example',
        email: 'ann@example.com',
        plan: 'gold',
      },
    ]);
    // The log reads below the safe horizon: another spec's open transaction
    // on the same server may hold the event back for a moment.
    let batch = await store.readAll();
    await waitUntil(async () => {
      batch = await store.readAll();
      return batch.events.length > 0;
    }, 'the registration readable in the log');
    expect(batch.events.map((e) => e.payload.name)).toEqual(['Ann Example']);

    const customer = await customers.load('c1');
    expect([customer.name, customer.email]).toEqual([
      'Ann Example',
      'ann@example.com',
    ]);
    await waitUntil(
      () => directory.seen.length === 1,
      'the directory sees the registration',
    );
    expect(directory.seen[0]).toEqual({
      customerId: 'c1',
      name: 'Ann Example',
      email: 'ann@example.com',
    });
  });

  it('after forgetSubject the fields read as placeholders, the aggregate rehydrates, a replay runs, others are untouched', async () => {
    const { store, customers, commands, personalData, directory, tracking } =
      await start();
    await commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
    );
    await commands.execute(new RenameCustomer('c1', 'Ann Other'));
    await commands.execute(
      new RegisterCustomer('c2', 'Bob Example', 'bob@example.com'),
    );
    await waitUntil(
      () => directory.seen.length === 3,
      'the directory caught up',
    );

    const report = await personalData.forgetSubject('c1');
    expect(report).toEqual({ forgotten: true, streams: [streamOf('c1')] });

    expect(await readStream(store, streamOf('c1'))).toEqual([
      { customerId: 'c1', name: null, email: '(forgotten)', plan: 'basic' },
      { customerId: 'c1', name: null },
    ]);
    const ann = await customers.load('c1');
    expect([ann.name, ann.email, ann.renames, ann.version]).toEqual([
      null,
      '(forgotten)',
      1,
      2,
    ]);
    const bob = await customers.load('c2');
    expect([bob.name, bob.email]).toEqual(['Bob Example', 'bob@example.com']);

    // A replay from the beginning runs every handler again, on placeholders.
    directory.seen.length = 0;
    await tracking.reset('pd-directory', { to: 'beginning' });
    await waitUntil(() => directory.seen.length === 3, 'the replay ran');
    expect(directory.seen).toEqual([
      { customerId: 'c1', name: null, email: '(forgotten)' },
      { customerId: 'c1', name: null },
      { customerId: 'c2', name: 'Bob Example', email: 'bob@example.com' },
    ]);

    // New data of a forgotten subject gets a new key, readable again.
    await commands.execute(new RenameCustomer('c1', 'Ann Third'));
    expect((await customers.load('c1')).name).toBe('Ann Third');
    expect(await personalData.forgetSubject('nobody')).toEqual({
      forgotten: false,
      streams: [],
    });
    // Recorded with or without a key: copies outside the events may hold it.
    expect(await recordedForgets()).toEqual(['c1', 'nobody']);
  });

  it('forgets in one transaction: when it cannot be recorded, the key stays', async () => {
    const { customers, commands, personalData } = await start();
    await commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
    );
    await database().client().exec(`DROP TABLE "${schema}".forgotten_subjects`);
    await expect(personalData.forgetSubject('c1')).rejects.toThrow(
      /forgotten_subjects/,
    );
    const keys = await database()
      .client()
      .query<{ subject_id: string }>(
        `SELECT subject_id FROM "${schema}".personal_data_keys`,
      );
    expect(keys).toEqual([{ subject_id: 'c1' }]);
    expect((await customers.load('c1')).name).toBe('Ann Example');
  });

  it('leaves no readable copy in snapshots, the aggregate cache or the message log', async () => {
    const { app, customers, commands, personalData } = await start({
      cache: true,
    });
    await commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
    );
    await commands.execute(new RenameCustomer('c1', 'Ann Other'));
    await app.get(SnapshotWriter).flush();
    await app.get(MessageLogWriter).flush();
    // The snapshot (every 2 events) holds the aggregate's decrypted state.
    expect(await tableText('snapshots')).toContain('Ann Other');
    expect(await tableText('message_log')).not.toContain('Ann');
    expect(await tableText('message_log')).toContain('***');
    expect((await customers.load('c1')).name).toBe('Ann Other'); // cached

    await personalData.forgetSubject('c1');
    expect(await tableText('snapshots')).not.toContain('Ann');
    expect((await customers.load('c1')).name).toBeNull();
    for (const table of ['events', 'message_log', 'snapshots']) {
      const text = await tableText(table);
      expect(text).not.toContain('Ann');
      expect(text).not.toContain('ann@example.com');
    }
  });

  it('wraps keys with the master key, and a wrong master key names the event it cannot read', async () => {
    const masterKey = secret(randomBytes(32).toString('base64'));
    const first = await start({ masterKey });
    await first.commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
    );
    const keys = await database()
      .client()
      .query<{ key: string }>(`SELECT key FROM "${schema}".personal_data_keys`);
    expect(keys.map((k) => k.key.slice(0, 3))).toEqual(['m1.']);
    await first.app.close();
    apps.splice(apps.indexOf(first.app), 1);

    const wrong = await start({
      masterKey: secret(randomBytes(32).toString('base64')),
    });
    const read = readStream(wrong.store, streamOf('c1'));
    await expect(read).rejects.toThrow(PersonalDataUnreadableError);
    await expect(read).rejects.toThrow(
      /pd\.CustomerRegistered \(version 1 of stream pd\.Customer-c1.*master key/,
    );
  });

  it('a damaged ciphertext is a typed error naming the event, not a placeholder', async () => {
    const { store, commands } = await start();
    await commands.execute(
      new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
    );
    await database()
      .client()
      .query(
        `UPDATE "${schema}".events
         SET payload = jsonb_set(payload, '{name,$enc}', to_jsonb(left(payload->'name'->>'$enc', -6) || 'AAAAAA'))
         WHERE stream_id = $1`,
        [streamOf('c1')],
      );
    const read = readStream(store, streamOf('c1'));
    await expect(read).rejects.toMatchObject({
      code: 'PERSONAL_DATA_UNREADABLE',
    });
    await expect(read).rejects.toThrow(
      /pd\.CustomerRegistered .*field 'name' does not decrypt/,
    );
  });

  it('seals events appended in a transaction, bound or joined, with a new subject', async () => {
    const { store } = await start();
    const { rawEvents } = await import('./evolution.fixture.js');
    await store.transaction(async (bound, tx) => {
      await bound.append(
        streamOf('t1'),
        rawEvents([
          {
            type: 'pd.CustomerRegistered',
            payload: {
              customerId: 't1',
              name: 'Tx Person',
              email: 'tx@example.com',
              plan: 'basic',
            },
          },
        ]),
      );
      await tx.query('SELECT 1');
    });
    expect(JSON.stringify(await rawPayloads(streamOf('t1')))).not.toContain(
      'Tx Person',
    );
    expect((await readStream(store, streamOf('t1')))[0].name).toBe('Tx Person');

    // The store itself (not bound) inside a transaction opened elsewhere: on
    // PGlite its statements join it, the new key's write included.
    await database()
      .client()
      .transaction(async () => {
        await store.append(
          streamOf('t2'),
          rawEvents([
            {
              type: 'pd.CustomerRegistered',
              payload: {
                customerId: 't2',
                name: 'Joined Person',
                email: 'j@example.com',
                plan: 'basic',
              },
            },
          ]),
        );
      });
    expect(JSON.stringify(await rawPayloads(streamOf('t2')))).not.toContain(
      'Joined Person',
    );
    expect((await readStream(store, streamOf('t2')))[0].name).toBe(
      'Joined Person',
    );
    // A later append outside any transaction is group-committed as before.
    await store.append(
      streamOf('t3'),
      rawEvents([
        {
          type: 'pd.CustomerRegistered',
          payload: {
            customerId: 't2',
            name: 'Again',
            email: 'a@example.com',
            plan: 'x',
          },
        },
      ]),
    );
    expect((await readStream(store, streamOf('t3')))[0].name).toBe('Again');
  });

  /** `chronicle show` of customer c1 as JSON: its events' payloads. */
  async function shown(): Promise<Record<string, unknown>[]> {
    const out = jest.spyOn(process.stdout, 'write').mockReturnValue(true);
    try {
      const code = await showCommand([
        'pd.Customer',
        'c1',
        '--url',
        DATABASE_URL,
        '--schema',
        schema,
        '--json',
      ]);
      expect(code).toBe(0);
      const printed = JSON.parse(String(out.mock.calls[0][0])) as {
        events: { payload: Record<string, unknown> }[];
      };
      return printed.events.map((e) => e.payload);
    } finally {
      out.mockRestore();
    }
  }

  // The commands open their own connection: PostgreSQL only.
  const onPostgres = database().name === 'postgres' ? it : undefined;

  onPostgres?.(
    'chronicle forget-subject forgets on the database, and a running app drops its cached key and aggregates; chronicle show reads as the apps do',
    async () => {
      const { store, customers, commands } = await start({ cache: true });
      await commands.execute(
        new RegisterCustomer('c1', 'Ann Example', 'ann@example.com'),
      );
      expect((await customers.load('c1')).name).toBe('Ann Example');
      expect((await shown())[0]).toMatchObject({ name: 'Ann Example' });
      const out = jest.spyOn(process.stdout, 'write').mockReturnValue(true);
      let code: number;
      let printed: string;
      try {
        code = await forgetSubjectCommand([
          'c1',
          '--url',
          DATABASE_URL,
          '--schema',
          schema,
          '--json',
        ]);
        printed = String(out.mock.calls[0][0]);
      } finally {
        out.mockRestore();
      }
      expect(code).toBe(0);
      expect(JSON.parse(printed)).toEqual({
        subjectId: 'c1',
        forgotten: true,
        streams: [streamOf('c1')],
      });
      expect(await recordedForgets()).toEqual(['c1']);
      // The app heard of it: neither its key cache nor its aggregate cache answers.
      await waitUntil(
        async () => (await readStream(store, streamOf('c1')))[0].name === null,
        'the app reads the placeholder',
      );
      expect((await customers.load('c1')).name).toBeNull();
      const [registered] = await shown();
      expect(registered).toMatchObject({ customerId: 'c1', name: null });
      expect(JSON.stringify(registered)).not.toContain('$enc');
    },
  );

  it('upcasters see the decrypted value, and the placeholder once forgotten', async () => {
    const { store, customers, personalData } = await start();
    const { rawEvents } = await import('./evolution.fixture.js');
    // What the code of revision 1 wrote: the address as one line.
    await store.append(
      streamOf('c9'),
      rawEvents([
        {
          type: 'pd.CustomerMoved',
          revision: 1,
          payload: { customerId: 'c9', address: 'Main St 1, Town' },
        },
      ]),
    );
    expect(JSON.stringify(await rawPayloads(streamOf('c9')))).not.toContain(
      'Main St',
    );
    expect((await customers.load('c9')).address).toEqual({
      line: 'Main St 1, Town',
    });
    await personalData.forgetSubject('c9');
    expect((await customers.load('c9')).address).toEqual({ line: null });
  });

  it('keeps no key of a transaction that rolled back, though the transaction read it twice', async () => {
    const { store } = await start();
    const { rawEvents } = await import('./evolution.fixture.js');
    const registration = () =>
      rawEvents([
        {
          type: 'pd.CustomerRegistered',
          payload: {
            customerId: 'r1',
            name: 'Rolled Back',
            email: 'rb@example.com',
            plan: 'basic',
          },
        },
      ]);
    // On PGlite the store's statements join the transaction: the key is
    // written in it, and the second append finds it there.
    await expect(
      database()
        .client()
        .transaction(async () => {
          await store.append(`${streamOf('r1')}-a`, registration());
          await store.append(`${streamOf('r1')}-b`, registration());
          throw new Error('roll back');
        }),
    ).rejects.toThrow('roll back');
    await store.append(streamOf('r1'), registration());
    // Another app on the store, with nothing cached, reads it.
    const other = await start();
    expect((await readStream(other.store, streamOf('r1')))[0].name).toBe(
      'Rolled Back',
    );
  });

  it('gives concurrent appends of new subjects one key each, in shared lookups', async () => {
    const { app, store, customers } = await start();
    const { rawEvents } = await import('./evolution.fixture.js');
    const keys = app.get(PersonalDataCipher).keys;
    const lookups = jest.spyOn(keys, 'findBySubjects');
    const ids = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const registration = (id: string) =>
      rawEvents([
        {
          type: 'pd.CustomerRegistered',
          payload: {
            customerId: id,
            name: `Name ${id}`,
            email: `${id}@example.com`,
            plan: 'basic',
          },
        },
      ]);
    // Two streams per subject: both appends wait for the same key.
    await Promise.all(
      ids.flatMap((id) => [
        store.append(streamOf(id), registration(id)),
        store.append(`${streamOf(id)}-copy`, registration(id)),
      ]),
    );
    expect(lookups.mock.calls.length).toBeLessThan(ids.length);
    const rows = await database()
      .client()
      .query<{ subject_id: string }>(
        `SELECT subject_id FROM "${schema}".personal_data_keys ORDER BY subject_id`,
      );
    expect(rows.map((r) => r.subject_id)).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await customers.load(id)).name).toBe(`Name ${id}`);
      expect((await readStream(store, `${streamOf(id)}-copy`))[0].name).toBe(
        `Name ${id}`,
      );
    }

    // Creating several: a subject that has a key keeps it.
    const [kept] = await keys.findBySubjects(['n0']);
    const made = await keys.createMany([
      { subjectId: 'n0', keyId: randomUUID(), key: kept.key },
      { subjectId: 'm1', keyId: randomUUID(), key: kept.key },
    ]);
    expect(made.find((k) => k.subjectId === 'n0')).toEqual(kept);
    expect(made.find((k) => k.subjectId === 'm1')?.keyId).not.toBe(kept.keyId);
    expect(made).toHaveLength(2);
  });

  it("keeps data keys in a KeyStore of the app's own (a KMS adapter), and forgets through it", async () => {
    const kms = new InMemoryKeyStore();
    const { store, customers, commands, personalData } = await start({
      keyStore: kms,
    });
    await commands.execute(
      new RegisterCustomer('k1', 'Kim Example', 'kim@example.com'),
    );
    expect(kms.keys.map((k) => k.subjectId)).toEqual(['k1']);
    const keysTable = await database()
      .client()
      .query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".personal_data_keys`,
      );
    expect(keysTable[0].n).toBe(0);
    expect((await customers.load('k1')).name).toBe('Kim Example');
    await personalData.forgetSubject('k1');
    expect(kms.keys).toEqual([]);
    expect(await recordedForgets()).toEqual(['k1']);
    expect((await readStream(store, streamOf('k1')))[0]).toMatchObject({
      name: null,
      email: '(forgotten)',
    });
  });
}

/** Stands for a KMS: keys in a list, out of the database. */
class InMemoryKeyStore extends KeyStore {
  keys: StoredDataKey[] = [];

  findBySubjects(subjectIds: readonly string[]): Promise<StoredDataKey[]> {
    return Promise.resolve(
      this.keys.filter((k) => subjectIds.includes(k.subjectId)),
    );
  }

  findByIds(keyIds: readonly string[]): Promise<StoredDataKey[]> {
    return Promise.resolve(this.keys.filter((k) => keyIds.includes(k.keyId)));
  }

  create(key: StoredDataKey): Promise<StoredDataKey> {
    const existing = this.keys.find((k) => k.subjectId === key.subjectId);
    if (existing) return Promise.resolve(existing);
    this.keys.push(key);
    return Promise.resolve(key);
  }

  forget(subjectId: string): Promise<string | undefined> {
    const found = this.keys.find((k) => k.subjectId === subjectId);
    this.keys = this.keys.filter((k) => k.subjectId !== subjectId);
    return Promise.resolve(found?.keyId);
  }
}
