import { defineCollection } from './collection-definition.js';
import type { CollectionDeclaration } from './document.decorator.js';
import { prepareCollection } from './collection-tables.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { waitUntil } from '../../test/wait-until.js';

// On PostgreSQL, an index added to a collection that holds documents is
// built concurrently: writes go on while it builds.

const database = postgresDatabase();
const schema = freshSchema('dconc');
const projections = `${schema}_projections`;

afterAll(async () => {
  await database
    .client()
    .exec(`DROP SCHEMA IF EXISTS "${projections}" CASCADE`);
  await database.close();
});

describe('Declared indexes on a PostgreSQL collection with documents', () => {
  it('are built concurrently: a write goes through while the build waits for an open transaction', async () => {
    const client = database.client();
    const before: CollectionDeclaration = { name: 'orders' };
    const after: CollectionDeclaration = {
      name: 'orders',
      indexes: ['customerId'],
    };
    const table = defineCollection(before, projections).table;
    await prepareCollection(client, defineCollection(before, projections));
    await client.exec(
      `INSERT INTO ${table} (id, revision, body)
        SELECT 'o-' || n, 1, jsonb_build_object('customerId', 'c-' || (n % 10)) FROM generate_series(1, 100) n`,
    );

    // A writer's transaction stays open: a build must wait for it to end.
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const open = database.otherClient().transaction(async (tx) => {
      await tx.exec(
        `INSERT INTO ${table} (id, revision, body) VALUES ('open', 1, '{"customerId": "c-1"}')`,
      );
      await finished;
    });
    const changes = prepareCollection(
      database.otherClient(),
      defineCollection(after, projections),
    );
    const progress = () =>
      client.query<{ command: string }>(
        'SELECT command FROM pg_stat_progress_create_index WHERE relid = $1::regclass',
        [table],
      );
    await waitUntil(
      async () => (await progress()).length > 0,
      'the index build to start',
    );
    expect(await progress()).toEqual([
      { command: 'CREATE INDEX CONCURRENTLY' },
    ]);

    // A plain CREATE INDEX would hold a lock request that queues every
    // later write behind the open transaction; this one goes through.
    await database.otherClient().transaction(async (tx) => {
      await tx.exec("SET LOCAL lock_timeout = '5s'");
      await tx.exec(
        `INSERT INTO ${table} (id, revision, body) VALUES ('during', 1, '{"customerId": "c-2"}')`,
      );
    });

    finish();
    await open;
    const [index] = defineCollection(after, projections).indexes;
    expect(await changes).toEqual({ created: [index.name], dropped: [] });
    const [row] = await client.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1::text`,
      [index.name],
    );
    expect(row.valid).toBe(true);
    const [count] = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${table} WHERE body #> '{customerId}' = '"c-2"'::jsonb`,
    );
    expect(count.count).toBe(11);
  });
});
