import type { INestApplicationContext } from '@nestjs/common';
import {
  Documents,
  forgetSubject,
  StoreSchema,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { card, CustomerCard, documentsApp } from './documents.fixture.js';
import { waitUntil } from './wait-until.js';

/** Documents follow forgotten subjects that were recorded while no instance of their app ran. */
export function documentsForgetsSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  const start = async () => {
    const app = await documentsApp(client, schema, [CustomerCard]);
    apps.push(app);
    return app;
  };

  const stop = async (app: INestApplicationContext) => {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  };

  /** What the owning app would serve, read without it running. */
  const read = async (documents: Documents, id: string) => {
    const found = await documents.get(CustomerCard, id);
    return { revision: found?.revision, name: found?.body.name };
  };

  const recorded = () =>
    client.query<{ seq: string; subject_id: string }>(
      `SELECT seq::text AS seq, subject_id FROM "${schema}".forgotten_subjects ORDER BY seq`,
    );

  const watermarks = () =>
    client.query<{ follower: string; seq: string }>(
      `SELECT follower, seq::text AS seq FROM "${schema}".forgotten_subjects_followers`,
    );

  /** The app's documents, owned by nobody running: a writer that does not follow forgets. */
  const bare = (app: INestApplicationContext) =>
    new Documents(client, app.get(Documents).collections()[0].schema, [
      CustomerCard,
    ]);

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('docf');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const own = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text)',
      [schema],
    );
    for (const { name } of own)
      await client.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });

  it('applies a forget made while no instance ran when the app starts, keeps what was written after it, and a restart changes nothing', async () => {
    const first = await start();
    const written = first.get(Documents);
    await written.index(CustomerCard, 'card-1', card('c-1', 'Ada Lovelace'));
    await written.index(CustomerCard, 'card-2', card('c-2', 'Alan Turing'));
    const writer = bare(first);
    await stop(first);

    // Forgotten with no app running (as `chronicle forget-subject` does).
    await forgetSubject(client, new StoreSchema(schema), 'c-1');
    const [record] = await recorded();
    expect(record.subject_id).toBe('c-1');
    // The subject came back after the forget: its new document stays.
    await writer.index(CustomerCard, 'card-3', card('c-1', 'Ada Again'));
    expect(await read(writer, 'card-1')).toEqual({
      revision: 1,
      name: 'Ada Lovelace',
    });

    const second = await start();
    const documents = second.get(Documents);
    expect(await read(documents, 'card-1')).toEqual({
      revision: 2,
      name: null,
    });
    expect((await documents.get(CustomerCard, 'card-1'))?.body.email).toBe(
      '(forgotten)',
    );
    expect(await read(documents, 'card-2')).toEqual({
      revision: 1,
      name: 'Alan Turing',
    });
    expect(await read(documents, 'card-3')).toEqual({
      revision: 1,
      name: 'Ada Again',
    });
    expect(await documents.search(CustomerCard).match('lovelace').count()).toBe(
      0,
    );
    expect(await watermarks()).toEqual([
      {
        follower: `documents:${documents.collections()[0].schema}`,
        seq: record.seq,
      },
    ]);

    await stop(second);
    const third = await start();
    const again = third.get(Documents);
    expect(await read(again, 'card-1')).toEqual({ revision: 2, name: null });
    expect(await read(again, 'card-3')).toEqual({
      revision: 1,
      name: 'Ada Again',
    });
    expect((await watermarks()).map((w) => w.seq)).toEqual([record.seq]);
  });

  it('instances starting at once apply each forget once', async () => {
    const first = await start();
    const written = first.get(Documents);
    await written.index(CustomerCard, 'card-1', card('c-1', 'Ada Lovelace'));
    await written.index(CustomerCard, 'card-2', card('c-2', 'Alan Turing'));
    await written.index(CustomerCard, 'card-3', card('c-3', 'Grace Hopper'));
    await stop(first);
    const store = new StoreSchema(schema);
    await forgetSubject(client, store, 'c-1');
    await forgetSubject(client, store, 'c-2');
    // Forgotten twice: recorded twice, applied once.
    await forgetSubject(client, store, 'c-2');
    expect((await recorded()).map((r) => r.subject_id)).toEqual([
      'c-1',
      'c-2',
      'c-2',
    ]);

    const [one, two] = await Promise.all([start(), start()]);
    for (const app of [one, two]) {
      const documents = app.get(Documents);
      expect(await read(documents, 'card-1')).toEqual({
        revision: 2,
        name: null,
      });
      expect(await read(documents, 'card-2')).toEqual({
        revision: 2,
        name: null,
      });
      expect(await read(documents, 'card-3')).toEqual({
        revision: 1,
        name: 'Grace Hopper',
      });
    }
    expect((await watermarks()).map((w) => w.seq)).toEqual([
      (await recorded())[2].seq,
    ]);
  });

  it('a running app applies a recorded forget when notified, again after the subject came back', async () => {
    const app = await start();
    const documents = app.get(Documents);
    await documents.index(CustomerCard, 'card-1', card('c-1', 'Ada Lovelace'));
    const store = new StoreSchema(schema);

    // Forgotten elsewhere, no listener of this process called: the
    // notification applies what is recorded, as a start does.
    await forgetSubject(client, store, 'c-1');
    await waitUntil(
      async () => (await read(documents, 'card-1')).revision === 2,
      'the forget applied',
    );
    expect(await read(documents, 'card-1')).toEqual({
      revision: 2,
      name: null,
    });

    await documents.index(CustomerCard, 'card-1', card('c-1', 'Ada Again'));
    await forgetSubject(client, store, 'c-1');
    await waitUntil(
      async () => (await read(documents, 'card-1')).revision === 4,
      'the second forget applied',
    );
    expect(await read(documents, 'card-1')).toEqual({
      revision: 4,
      name: null,
    });
  });
}
