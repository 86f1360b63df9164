import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  Document,
  Documents,
  QueryBus,
  remoteSearch,
  searchDocumentsHandler,
  searchDocumentsQuery,
  runInAmbientTransaction,
  InvalidFieldPathError,
  InvalidSearchError,
  type SqlClient,
  type SqlParameter,
} from '../src/index.js';
import { defineCollection } from '../src/documents/collection-definition.js';
import { prepareCollection } from '../src/documents/collection-tables.js';
import { countStatement, facetStatement } from '../src/documents/search-sql.js';
import type { SearchSpec } from '../src/documents/search-spec.js';
import { freshSchema, type TestDatabase } from './databases.js';
import { documentsApp, product, Product } from './documents.fixture.js';

const CATALOGUE: Product[] = [
  product({
    sku: 'a',
    title: 'Red running shoes',
    description: 'Light shoes for the track',
    price: 80,
    category: 'shoes',
    tags: ['red', 'sport'],
    addedAt: '2024-01-10T09:00:00.000Z',
    maker: { name: 'Fleet', country: 'NL' },
  }),
  product({
    sku: 'b',
    title: 'Blue hat',
    description: 'Goes well with red shoes',
    price: 25,
    category: 'hats',
    tags: ['blue'],
    addedAt: '2024-02-01T12:00:00.000Z',
    maker: { name: 'Capo', country: 'IT' },
  }),
  product({
    sku: 'c',
    title: 'Walking shoe',
    description: 'A shoe for long walks',
    price: 60,
    category: 'shoes',
    tags: ['brown'],
    addedAt: '2024-03-05T08:30:00.000Z',
    maker: { name: 'Fleet', country: 'NL' },
  }),
  product({
    sku: 'd',
    title: 'Gift card',
    price: '25',
    category: null,
    addedAt: '2023-12-24T18:00:00.000Z',
  }),
  product({ sku: 'e', title: 'Mystery box', price: true }),
];

const ids = (page: { items: readonly { id: string }[] }) =>
  page.items.map((i) => i.id);

/** Searching a collection: every operator, text ranking, sorting, paging, counts and facets. */
export function documentSearchSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];
  let documents: Documents;

  const start = async (collections: Parameters<typeof documentsApp>[2]) => {
    const app = await documentsApp(client, schema, collections);
    apps.push(app);
    return app;
  };

  beforeEach(async () => {
    client = database().client();
    schema = freshSchema('dsearch');
    documents = (await start([Product])).get(Documents);
    for (const p of CATALOGUE) await documents.index(Product, p.sku, p);
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

  const search = () => documents.search(Product).sortBy('sku');

  it('eq compares strings, numbers, null and nested fields as JSON, each of its own type', async () => {
    expect(ids(await search().eq('category', 'shoes').page())).toEqual([
      'a',
      'c',
    ]);
    expect(ids(await search().eq('price', 25).page())).toEqual(['b']);
    expect(ids(await search().eq('price', '25').page())).toEqual(['d']);
    expect(ids(await search().eq('price', true).page())).toEqual(['e']);
    expect(ids(await search().eq('category', null).page())).toEqual(['d']);
    expect(ids(await search().eq('maker.country', 'NL').page())).toEqual([
      'a',
      'c',
    ]);
  });

  it('in takes any of several values', async () => {
    expect(
      ids(await search().in('maker.country', ['IT', 'FR']).page()),
    ).toEqual(['b']);
    expect(ids(await search().in('price', [25, 60, '25']).page())).toEqual([
      'b',
      'c',
      'd',
    ]);
  });

  it('between takes numbers and dates, bounds included, either end open, values of other types left out', async () => {
    expect(ids(await search().between('price', 25, 60).page())).toEqual([
      'b',
      'c',
    ]);
    // Open above: the boolean price is above every number in jsonb order, and still left out.
    expect(ids(await search().between('price', 61, undefined).page())).toEqual([
      'a',
    ]);
    expect(
      ids(
        await search()
          .between(
            'addedAt',
            new Date('2024-01-01T00:00:00Z'),
            new Date('2024-02-01T12:00:00Z'),
          )
          .page(),
      ),
    ).toEqual(['a', 'b']);
    expect(
      ids(
        await search()
          .between('addedAt', undefined, new Date('2024-01-01T00:00:00Z'))
          .page(),
      ),
    ).toEqual(['d']);
  });

  it('exists finds the documents holding a field, null or not', async () => {
    expect(ids(await search().exists('tags').page())).toEqual(['a', 'b', 'c']);
    expect(ids(await search().exists('category').page())).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('contains finds array elements and object fields', async () => {
    expect(ids(await search().contains('tags', 'red').page())).toEqual(['a']);
    expect(
      ids(await search().contains('tags', ['red', 'sport']).page()),
    ).toEqual(['a']);
    expect(
      ids(await search().contains('maker', { name: 'Capo' }).page()),
    ).toEqual(['b']);
  });

  it('matches text in the declared language (stems), ranking a title above a description', async () => {
    const page = await documents.search(Product).match('red shoes').page();
    // "shoes" also matches "shoe": english stemming.
    expect(ids(page)).toEqual(['a', 'b']);
    expect(page.items[0].rank).toBeGreaterThan(page.items[1].rank!);
    expect(
      ids(await documents.search(Product).match('shoe').page()).sort(),
    ).toEqual(['a', 'b', 'c']);
    // Web search syntax: a quoted phrase, a word left out.
    expect(
      ids(await documents.search(Product).match('"walking shoe"').page()),
    ).toEqual(['c']);
    expect(
      ids(await documents.search(Product).match('shoes -red').page()),
    ).toEqual(['c']);
    // With filters, and sorted by a field instead of the rank.
    expect(
      ids(
        await documents
          .search(Product)
          .match('shoes')
          .eq('category', 'shoes')
          .sortBy('price', 'desc')
          .page(),
      ),
    ).toEqual(['a', 'c']);
  });

  it('sorts by a field either way, documents without it last ascending and first descending', async () => {
    expect(
      ids(await documents.search(Product).sortBy('addedAt').page()),
    ).toEqual(['d', 'a', 'b', 'c', 'e']);
    expect(
      ids(await documents.search(Product).sortBy('addedAt', 'desc').page()),
    ).toEqual(['e', 'c', 'b', 'a', 'd']);
  });

  it('pages with a cursor, in every sort, to the same order as one page', async () => {
    const sorts = [
      () => documents.search(Product),
      () => documents.search(Product).sortBy('addedAt'),
      () => documents.search(Product).sortBy('addedAt', 'desc'),
      () => documents.search(Product).sortBy('category', 'desc'),
      () => documents.search(Product).match('shoes | hat | card'),
    ];
    for (const sorted of sorts) {
      const whole = ids(await sorted().limit(100).page());
      const paged: string[] = [];
      let next: string | undefined;
      do {
        const page = await sorted().limit(2).after(next).page();
        paged.push(...ids(page));
        next = page.next;
      } while (next);
      expect(paged).toEqual(whole);
    }
  });

  it('pages stably while documents are added and changed between pages', async () => {
    for (let i = 0; i < 40; i++)
      await documents.index(
        Product,
        `bulk-${String(i).padStart(2, '0')}`,
        product({ sku: `bulk-${i}`, price: i % 7, category: 'bulk' }),
      );
    const before = ids(
      await documents.search(Product).eq('category', 'bulk').limit(100).page(),
    );
    const seen: string[] = [];
    let next: string | undefined;
    let round = 0;
    do {
      const page = await documents
        .search(Product)
        .eq('category', 'bulk')
        .sortBy('price')
        .limit(6)
        .after(next)
        .page();
      seen.push(...ids(page));
      next = page.next;
      // Meanwhile: new documents at every price, and rewrites that keep the sort key.
      await documents.index(
        Product,
        `new-${round}`,
        product({ sku: `new-${round}`, price: round % 7, category: 'bulk' }),
      );
      const changed = before[(round * 5) % before.length];
      const stored = await documents.get(Product, changed);
      await documents.index(Product, changed, {
        ...stored!.body,
        title: `changed ${round}`,
      } as Product);
      round++;
    } while (next);
    // Every document there from the start is seen exactly once.
    const original = seen.filter((id) => id.startsWith('bulk-'));
    expect(original.sort()).toEqual([...before].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('counts and gives facets over the same match and filters', async () => {
    expect(await documents.search(Product).count()).toBe(5);
    expect(await documents.search(Product).match('shoes').count()).toBe(3);
    expect(
      await documents.search(Product).eq('maker.country', 'NL').count(),
    ).toBe(2);
    // Most first, ties in JSON order; null stands for both a null and an absent field.
    expect(await documents.search(Product).facets('category')).toEqual([
      { value: null, count: 2 },
      { value: 'shoes', count: 2 },
      { value: 'hats', count: 1 },
    ]);
    expect(
      await documents.search(Product).match('shoes').facets('maker.country'),
    ).toEqual([
      { value: 'NL', count: 2 },
      { value: 'IT', count: 1 },
    ]);
    expect(
      await documents.search(Product).facets('category', { limit: 1 }),
    ).toHaveLength(1);
  });

  it('counts an array per element: each distinct element once per document, beside scalar values', async () => {
    const items = (
      await start([
        {
          name: 'items',
          indexes: ['kind', { path: 'tags', using: 'gin' }],
          text: ['title'],
        },
      ])
    ).get(Documents);
    const stock: [string, Record<string, unknown>][] = [
      ['i1', { kind: 'x', title: 'red shoes', tags: ['red', 'shoes'] }],
      ['i2', { kind: 'x', title: 'a hat', tags: ['red', 'red', 'hat'] }],
      ['i3', { kind: 'y', title: 'red scarf', tags: 'red' }],
      ['i4', { kind: 'y', title: 'nothing', tags: [] }],
      ['i5', { kind: 'y', title: 'untagged' }],
      ['i6', { kind: 'x', title: 'null tags', tags: null }],
      ['i7', { kind: 'y', title: 'odd', tags: [{ k: 1 }, { k: 1 }, 2, 2.0] }],
    ];
    for (const [id, body] of stock) await items.index('items', id, body);
    const find = () => items.search<Record<string, unknown>>('items');
    const tags = await find().facets('tags');
    // i2's two reds count once; the scalar "red" with the elements; missing,
    // null and [] as null (no value); objects and numbers as values. Ties
    // in JSON order: null, strings, numbers, objects.
    expect(tags).toEqual([
      { value: null, count: 3 },
      { value: 'red', count: 3 },
      { value: 'hat', count: 1 },
      { value: 'shoes', count: 1 },
      { value: 2, count: 1 },
      { value: { k: 1 }, count: 1 },
    ]);
    // Each scalar value's count is what refining the search by it selects
    // (an object element is found by contains('tags', [element])).
    for (const { value, count } of tags) {
      if (value === null || typeof value === 'object') continue;
      expect({
        value,
        count: await find()
          .contains('tags', value as string)
          .count(),
      }).toEqual({ value, count });
    }
    // Over the same filters and match as a page.
    expect(await find().eq('kind', 'x').facets('tags')).toEqual([
      { value: 'red', count: 2 },
      { value: null, count: 1 },
      { value: 'hat', count: 1 },
      { value: 'shoes', count: 1 },
    ]);
    expect(await find().match('red').facets('tags')).toEqual([
      { value: 'red', count: 2 },
      { value: 'shoes', count: 1 },
    ]);
    expect(
      await find()
        .contains('tags', 'red')
        .eq('kind', 'x')
        .facets('tags', { limit: 2 }),
    ).toEqual([
      { value: 'red', count: 2 },
      { value: 'hat', count: 1 },
    ]);
    // A scalar field is counted as before, arrays or not elsewhere.
    expect(await find().facets('kind')).toEqual([
      { value: 'y', count: 4 },
      { value: 'x', count: 3 },
    ]);
  });

  it('refuses bad paths, cursors and sorts with errors that say what to do', async () => {
    expect(() => documents.search(Product).eq('bad path' as 'sku', 1)).toThrow(
      InvalidFieldPathError,
    );
    expect(() => documents.search(Product).eq("x'--" as 'sku', 1)).toThrow(
      /field name "x'--"/,
    );
    expect(() => documents.search(Product).sortBy('a..b' as 'sku')).toThrow(
      /empty field name/,
    );
    await expect(documents.search(Product).sortByRank().page()).rejects.toThrow(
      InvalidSearchError,
    );
    const page = await documents
      .search(Product)
      .sortBy('price')
      .limit(1)
      .page();
    await expect(
      documents.search(Product).sortBy('sku').after(page.next).page(),
    ).rejects.toThrow(/sorted another way/);
    await expect(
      documents.search(Product).after('not a cursor').page(),
    ).rejects.toThrow(InvalidSearchError);
    await expect(documents.search(Product).limit(0).page()).rejects.toThrow(
      /limit is 0/,
    );
    expect(() => documents.search(Product).eq('price', Number.NaN)).toThrow(
      /finite/,
    );
  });

  it('answers the same search as a SearchDocuments query, checking what it is sent', async () => {
    const app = await documentsApp(
      client,
      schema,
      [Product],
      [searchDocumentsHandler(Product)],
    );
    apps.push(app);
    const queries = app.get(QueryBus);
    const remote = () => remoteSearch<Product>(queries, 'products');

    const local = await documents.search(Product).match('shoes').page();
    const answered = await remote().match('shoes').page();
    expect(answered).toEqual({
      items: local.items.map((item) => ({
        ...item,
        body: JSON.parse(JSON.stringify(item.body)),
      })),
    });
    expect(answered.items[0].createdAt).toBeInstanceOf(Date);
    expect(await remote().eq('category', 'shoes').count()).toBe(2);
    expect(await remote().facets('maker.country')).toEqual(
      await documents.search(Product).facets('maker.country'),
    );
    expect(await remote().facets('tags')).toEqual([
      { value: null, count: 2 },
      { value: 'blue', count: 1 },
      { value: 'brown', count: 1 },
      { value: 'red', count: 1 },
      { value: 'sport', count: 1 },
    ]);
    const Search = searchDocumentsQuery(Product);
    await expect(
      queries.execute(
        new Search('page', {
          filters: [{ op: 'eq', path: "x') OR true --", value: 1 }],
        }),
      ),
    ).rejects.toThrow(/field name/);
    await expect(
      queries.execute(
        new Search('facets', { filters: [] }, { path: "tags') --", limit: 5 }),
      ),
    ).rejects.toThrow(/field name/);
    await expect(
      queries.execute(
        new Search('facets', { filters: [] }, { path: 'tags', limit: 5000 }),
      ),
    ).rejects.toThrow(/limit is 5000/);
  });

  it('refuses a text match on a collection without text fields', async () => {
    const notes = (await start([{ name: 'notes' }])).get(Documents);
    await expect(notes.search('notes').match('x').page()).rejects.toThrow(
      /declares no text fields/,
    );
  });
}

/** Declared indexes become PostgreSQL's, follow the declaration, and serve the queries. */
export function documentIndexesSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  const start = async (collections: Parameters<typeof documentsApp>[2]) => {
    const app = await documentsApp(client, schema, collections);
    apps.push(app);
    return app;
  };

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('dindex');
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

  const indexes = async (): Promise<string[]> => {
    const rows = await client.query<{ definition: string }>(
      `SELECT indexdef AS definition FROM pg_indexes WHERE schemaname = $1::text AND tablename = 'documents_orders'
        AND indexname <> 'documents_orders_pkey' ORDER BY indexname`,
      [`${schema}_projections`],
    );
    return rows.map((r) => r.definition.replace(/^.* USING /, ''));
  };

  it('creates the declared indexes, adds and drops them as the declaration changes, and leaves them alone on a restart', async () => {
    const first = await start([
      {
        name: 'orders',
        indexes: ['customerId', { path: 'lines', using: 'gin' }],
      },
    ]);
    await first.get(Documents).index('orders', 'o-1', { customerId: 'c-1' });
    expect(await indexes()).toEqual(
      expect.arrayContaining([
        expect.stringContaining("'{customerId}'::text[])), id)"),
        expect.stringContaining("'{lines}'::text[])) jsonb_path_ops)"),
      ]),
    );
    expect(await indexes()).toHaveLength(2);
    const names = await client.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1::text AND tablename = 'documents_orders' ORDER BY 1`,
      [`${schema}_projections`],
    );

    // The same declaration again (a restart, a second instance): nothing changes.
    await start([
      {
        name: 'orders',
        indexes: ['customerId', { path: 'lines', using: 'gin' }],
      },
    ]);
    expect(
      await client.query(
        `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1::text AND tablename = 'documents_orders' ORDER BY 1`,
        [`${schema}_projections`],
      ),
    ).toEqual(names);

    // customerId kept, lines dropped, placedAt and a text column added; the document survives.
    const changed = await start([
      {
        name: 'orders',
        indexes: ['customerId', 'placedAt'],
        text: ['notes'],
        language: 'simple',
      },
    ]);
    const now = await indexes();
    expect(now).toHaveLength(3);
    expect(now.join('\n')).not.toContain('lines');
    expect(now.join('\n')).toContain("'{placedAt}'");
    expect(now.join('\n')).toContain('gin (search)');
    const documents = changed.get(Documents);
    expect((await documents.get('orders', 'o-1'))?.body).toEqual({
      customerId: 'c-1',
    });

    // A new language makes the search column again, its documents searched by it.
    await documents.index('orders', 'o-2', { notes: 'running late' });
    expect(await documents.search('orders').match('run').count()).toBe(0); // simple: no stemming
    const english = await start([
      { name: 'orders', indexes: ['customerId', 'placedAt'], text: ['notes'] },
    ]);
    expect(
      await english.get(Documents).search('orders').match('run').count(),
    ).toBe(1);
  });

  it('serves filters, sorts, containment and text matches from the declared indexes', async () => {
    @Document('orders', {
      indexes: ['customerId', 'placedAt', { path: 'tags', using: 'gin' }],
      text: ['notes'],
    })
    class Order {
      customerId!: string;
      placedAt!: string;
      tags!: string[];
      notes!: string;
    }
    const documents = (await start([Order])).get(Documents);
    await documents.index(Order, 'o-1', {
      customerId: 'c-1',
      placedAt: '2024-01-01T00:00:00.000Z',
      tags: ['x'],
      notes: 'fragile',
    });
    // The plan of what Documents runs, with sequential scans off: an index
    // whose expression the query's does not match would leave a Seq Scan.
    const plan = (search: ReturnType<typeof documents.search<Order>>) =>
      client.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_seqscan = off');
        return runInAmbientTransaction({ current: tx }, () => search.explain());
      });
    const orders = () => documents.search(Order);
    const cases: [string, ReturnType<typeof orders>][] = [
      ['eq', orders().eq('customerId', 'c-1')],
      ['in', orders().in('customerId', ['c-1', 'c-2'])],
      ['between', orders().between('placedAt', new Date(0), new Date())],
      ['sort', orders().sortBy('placedAt', 'desc')],
      ['contains', orders().contains('tags', 'x')],
      ['match', orders().match('fragile')],
    ];
    for (const [what, search] of cases) {
      const text = await plan(search);
      expect({ what, seqScan: /Seq Scan/.test(text) }).toEqual({
        what,
        seqScan: false,
      });
      expect({ what, text }).toEqual({
        what,
        text: expect.stringMatching(/documents_orders_(i[0-9a-f]{8}|search)/),
      });
    }
  });

  it('builds again an index a failed concurrent build left invalid', async () => {
    const plain = await start([{ name: 'orders' }]);
    for (const [id, customerId] of [
      ['o-1', 'c-1'],
      ['o-2', 'c-1'],
      ['o-3', 'c-2'],
    ]) {
      await plain.get(Documents).index('orders', id, { customerId });
    }
    const declared = { name: 'orders', indexes: ['customerId'] };
    const collection = defineCollection(declared, `${schema}_projections`);
    const [index] = collection.indexes;
    // A unique build over duplicate values fails, and leaves its index
    // behind under the name the declaration gives, invalid.
    await expect(
      client.exec(
        `CREATE UNIQUE INDEX CONCURRENTLY "${index.name}" ON ${collection.table} ((body #> '{customerId}'))`,
      ),
    ).rejects.toThrow(/could not create unique index/);
    const state = () =>
      client.query<{ valid: boolean; definition: string }>(
        `SELECT i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS definition
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass AND c.relname = $2::text`,
        [collection.table, index.name],
      );
    expect((await state()).map((s) => s.valid)).toEqual([false]);

    // The next start drops it and builds it again.
    expect(await prepareCollection(client, collection)).toEqual({
      created: [index.name],
      dropped: [index.name],
    });
    const [rebuilt] = await state();
    expect(rebuilt.valid).toBe(true);
    expect(rebuilt.definition).not.toContain('UNIQUE');
    expect(rebuilt.definition).toContain(
      "(body #> '{customerId}'::text[])), id)",
    );
    const found = await plain
      .get(Documents)
      .search<Record<string, unknown>>('orders')
      .eq('customerId', 'c-1')
      .count();
    expect(found).toBe(2);
  });

  it('fails to start when a build fails, leaving no index behind, and builds it at the next start', async () => {
    const plain = await start([{ name: 'orders' }]);
    const documents = plain.get(Documents);
    await documents.index('orders', 'o-1', { customerId: 'c-1' });
    // Too big for a btree entry, even compressed: the build fails (on
    // PostgreSQL a concurrent one, on PGlite the start's transaction).
    await documents.index('orders', 'o-2', {
      customerId: randomBytes(12_000).toString('base64'),
    });
    const declared = { name: 'orders', indexes: ['customerId'] };
    const collection = defineCollection(declared, `${schema}_projections`);
    await expect(prepareCollection(client, collection)).rejects.toThrow(
      /index row/,
    );
    const left = () =>
      client.query(
        `SELECT 1 FROM pg_index WHERE indrelid = $1::regclass AND indexrelid <> $2::regclass`,
        [collection.table, `${collection.table.slice(0, -1)}_pkey"`],
      );
    expect(await left()).toEqual([]);
    await documents.delete('orders', 'o-2');
    expect(await prepareCollection(client, collection)).toEqual({
      created: [collection.indexes[0].name],
      dropped: [],
    });
    expect(await left()).toHaveLength(1);
  });

  it('lets one of two instances starting at once build a new index on a collection with documents', async () => {
    const plain = await start([{ name: 'orders' }]);
    for (let i = 0; i < 50; i++) {
      await plain
        .get(Documents)
        .index('orders', `o-${i}`, { customerId: `c-${i % 5}` });
    }
    const declared = {
      name: 'orders',
      indexes: ['customerId', { path: 'tags', using: 'gin' as const }],
    };
    const collection = defineCollection(declared, `${schema}_projections`);
    const both = await Promise.all(
      [client, database().otherClient()].map((c) =>
        prepareCollection(c, collection),
      ),
    );
    const names = collection.indexes.map((i) => i.name).sort();
    expect(both.map((c) => [...c.created].sort())).toEqual(
      expect.arrayContaining([names, []]),
    );
    expect(both.flatMap((c) => c.dropped)).toEqual([]);
    const valid = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass AND i.indisvalid AND starts_with(c.relname, 'documents_orders_i')
        ORDER BY 1`,
      [collection.table],
    );
    expect(valid.map((v) => v.name)).toEqual(names);
  });

  it('on 10,000 documents, finds an array element by the GIN index and splits only distinct values to facet', async () => {
    const declaration = {
      name: 'orders',
      indexes: ['status', { path: 'tags', using: 'gin' as const }],
    };
    const documents = (await start([declaration])).get(Documents);
    const collection = defineCollection(declaration, `${schema}_projections`);
    // Seven statuses; tags from a few combinations, "rare" in 1 of 1,000
    // (one in 100, spread over every page, is cheaper to read by a scan).
    await client.exec(
      `INSERT INTO ${collection.table} (id, revision, body)
        SELECT 'o-' || n, 1, jsonb_build_object(
          'status', 's' || (n % 7),
          'tags', CASE WHEN n % 1000 = 0 THEN '["rare", "common"]'::jsonb
                       WHEN n % 2 = 0 THEN '["common", "even", "even"]'::jsonb
                       ELSE '["common"]'::jsonb END)
        FROM generate_series(1, 10000) n;
      ANALYZE ${collection.table}`,
    );
    type Node = {
      'Node Type': string;
      'Index Name'?: string;
      'Function Name'?: string;
      'Actual Loops': number;
      Plans?: Node[];
    };
    // A statement's plan, run: the nodes it read and how often each ran.
    const analyse = async (statement: {
      text: string;
      params: SqlParameter[];
    }) => {
      const [row] = await client.query<Record<string, unknown>>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`,
        statement.params,
      );
      const json = Object.values(row)[0];
      const [root] = (typeof json === 'string' ? JSON.parse(json) : json) as {
        Plan: Node;
      }[];
      const nodes: Node[] = [];
      const walk = (node: Node) => {
        nodes.push(node);
        node.Plans?.forEach(walk);
      };
      walk(root.Plan);
      return nodes;
    };
    const byGin = (nodes: Node[]) =>
      nodes.some(
        (n) =>
          n['Node Type'] === 'Bitmap Index Scan' &&
          n['Index Name'] === collection.indexes[1].name,
      );
    const rare: SearchSpec = {
      filters: [{ op: 'contains', path: 'tags', value: 'rare' }],
    };
    // An element of an array, found by the GIN index, not a scan of the table.
    const counted = await analyse(countStatement(collection, rare));
    expect(byGin(counted)).toBe(true);
    expect(counted.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
    expect(
      await documents
        .search<Record<string, unknown>>('orders')
        .contains('tags', 'rare')
        .count(),
    ).toBe(10);

    // Over every document: three distinct arrays, so the elements are
    // split three times, not 10,000.
    const all = await analyse(
      facetStatement(collection, { filters: [] }, 'tags', 20),
    );
    const split = all.filter(
      (n) => n['Function Name'] === 'jsonb_array_elements',
    );
    expect(split.map((n) => n['Actual Loops'])).toEqual([3]);
    expect(
      await documents.search<Record<string, unknown>>('orders').facets('tags'),
    ).toEqual([
      { value: 'common', count: 10000 },
      { value: 'even', count: 4990 },
      { value: 'rare', count: 10 },
    ]);
    // Refined by an element: read by the GIN index, not a scan of the table.
    const refined = await analyse(facetStatement(collection, rare, 'tags', 20));
    expect(byGin(refined)).toBe(true);
    expect(refined.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
  });
}
