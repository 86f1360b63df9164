import {
  Injectable,
  Module,
  type INestApplicationContext,
  type OnModuleInit,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandBus,
  Document,
  PersonalData,
  PersonalDataService,
  DocumentConflictError,
  DocumentsInRebuildError,
  Documents,
  EventStore,
  InvalidDocumentError,
  TrackingService,
  UnknownCollectionError,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  AddProduct,
  AddProductHandler,
  BalanceDoc,
  BalanceDocuments,
  BalanceDocumentsV2,
  rebuildRefusals,
  card,
  CustomerCard,
  documentsApp,
  failOnce,
  product,
  Product,
  staged,
} from './documents.fixture.js';
import { deposited } from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

/** Documents by collection and id: revisions, conflicts, and where writes commit. */
export function documentsSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  const start = async (
    ...args: Parameters<typeof documentsApp> extends [
      unknown,
      unknown,
      ...infer R,
    ]
      ? R
      : never
  ) => {
    const app = await documentsApp(client, schema, ...args);
    apps.push(app);
    return app;
  };

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('docs');
    staged.length = 0;
    failOnce.amount = Number.NaN;
    failOnce.failed = false;
    rebuildRefusals.length = 0;
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

  it('stores a document at revision 1, replaces it at the next, and reads it back as its class', async () => {
    const documents = (await start([Product])).get(Documents);

    const first = await documents.index(
      Product,
      'p-1',
      product({ sku: 'p-1', title: 'Red shoes', price: 40 }),
    );
    expect(first).toEqual({ staged: false, revision: 1 });
    const stored = await documents.get(Product, 'p-1');
    expect(stored?.body).toBeInstanceOf(Product);
    expect(stored?.body.label()).toBe('p-1: Red shoes');
    expect(stored).toMatchObject({
      collection: 'products',
      id: 'p-1',
      revision: 1,
    });

    const second = await documents.index(
      Product,
      'p-1',
      product({ sku: 'p-1', title: 'Red shoes', price: 35 }),
    );
    expect(second).toEqual({ staged: false, revision: 2 });
    const again = await documents.get(Product, 'p-1');
    expect(again?.body.price).toBe(35);
    expect(again?.createdAt).toEqual(stored?.createdAt);
    expect(again!.updatedAt.getTime()).toBeGreaterThanOrEqual(
      stored!.updatedAt.getTime(),
    );
    expect(await documents.get(Product, 'nothing')).toBeUndefined();
  });

  it('reads many in the order asked, leaving out the missing; plain collections give plain JSON', async () => {
    const documents = (await start([{ name: 'notes' }])).get(Documents);
    await documents.index('notes', 'b', { text: 'bee', nested: { n: 2 } });
    await documents.index('notes', 'a', { text: 'ay' });

    const found = await documents.getMany<{ text: string }>('notes', [
      'a',
      'missing',
      'b',
    ]);
    expect(found.map((d) => [d.id, d.body])).toEqual([
      ['a', { text: 'ay' }],
      ['b', { text: 'bee', nested: { n: 2 } }],
    ]);
    expect(await documents.getMany('notes', [])).toEqual([]);
  });

  it('refuses a write whose expected revision is not the stored one, naming both', async () => {
    const documents = (await start([Product])).get(Documents);
    await documents.index(Product, 'p-1', product({ sku: 'p-1' }), {
      expectedRevision: 'absent',
    });

    const conflict = await documents
      .index(Product, 'p-1', product({ sku: 'p-1' }), {
        expectedRevision: 'absent',
      })
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(DocumentConflictError);
    expect(conflict).toMatchObject({
      code: 'DOCUMENT_CONFLICT',
      collection: 'products',
      id: 'p-1',
      expected: 'absent',
      actual: 1,
    });

    await documents.index(Product, 'p-1', product({ sku: 'p-1' }), {
      expectedRevision: 1,
    });
    await expect(
      documents.index(Product, 'p-1', product({ sku: 'p-1' }), {
        expectedRevision: 1,
      }),
    ).rejects.toMatchObject({ expected: 1, actual: 2 });
    await expect(
      documents.index(Product, 'p-2', product({ sku: 'p-2' }), {
        expectedRevision: 3,
      }),
    ).rejects.toMatchObject({ id: 'p-2', expected: 3, actual: 'absent' });
    await expect(
      documents.delete(Product, 'p-1', { expectedRevision: 1 }),
    ).rejects.toMatchObject({ expected: 1, actual: 2 });
    expect((await documents.get(Product, 'p-1'))?.revision).toBe(2);
  });

  it('lets one of two writers of the same revision win and refuses the other', async () => {
    const app = await start([Product]);
    const documents = app.get(Documents);
    await documents.index(Product, 'p-1', product({ sku: 'p-1' }));

    const outcomes = await Promise.allSettled(
      ['left', 'right'].map((title) =>
        documents.index(Product, 'p-1', product({ sku: 'p-1', title }), {
          expectedRevision: 1,
        }),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(
      DocumentConflictError,
    );
    expect((await documents.get(Product, 'p-1'))?.revision).toBe(2);
  });

  it('deletes one document, or every one a search selects', async () => {
    const documents = (await start([Product])).get(Documents);
    for (const [sku, category] of [
      ['a', 'shoes'],
      ['b', 'shoes'],
      ['c', 'hats'],
    ])
      await documents.index(Product, sku, product({ sku, category }));

    expect(await documents.delete(Product, 'c')).toEqual({
      staged: false,
      deleted: true,
    });
    expect(await documents.delete(Product, 'c')).toEqual({
      staged: false,
      deleted: false,
    });
    expect(
      await documents.deleteWhere(Product, (q) => q.eq('category', 'shoes')),
    ).toEqual({ staged: false, count: 2 });
    expect(await documents.search(Product).count()).toBe(0);
  });

  it('lets a feature module declare the collections it owns, ready before init hooks run', async () => {
    const seenAtInit: number[] = [];
    @Injectable()
    class Seeder implements OnModuleInit {
      constructor(private readonly documents: Documents) {}
      async onModuleInit(): Promise<void> {
        const written = await this.documents.index(
          Product,
          'seed',
          product({ sku: 'seed' }),
        );
        if (!written.staged) seenAtInit.push(written.revision);
      }
    }
    @Module({
      imports: [ChronicleModule.forFeature([], { documents: [Product] })],
      providers: [Seeder],
    })
    class CatalogueModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({ database: { client, schema } }),
        CatalogueModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    expect(seenAtInit).toEqual([1]);
    expect((await app.get(Documents).get(Product, 'seed'))?.body.sku).toBe(
      'seed',
    );
  });

  it('refuses an undeclared collection, a bad id and a body that is not an object, saying what to do', async () => {
    const documents = (await start([Product])).get(Documents);
    await expect(documents.get('orders', 'x')).rejects.toBeInstanceOf(
      UnknownCollectionError,
    );
    await expect(documents.get('orders', 'x')).rejects.toThrow(
      /documents: \{ collections/,
    );
    await expect(
      documents.index(Product, '', product({ sku: '' })),
    ).rejects.toBeInstanceOf(InvalidDocumentError);
    await expect(
      documents.index('products', 'x', ['not', 'an', 'object']),
    ).rejects.toThrow(/must be an object/);
    await expect(
      documents.index(Product, 'x', product({ sku: 'x', title: 'a\u0000b' })),
    ).rejects.toThrow(/NUL/);
  });

  it('stages writes inside a command handler: committed with the command, or not at all', async () => {
    const app = await start([Product], [AddProductHandler]);
    const documents = app.get(Documents);
    const commands = app.get(CommandBus);

    await commands.execute(new AddProduct('p-1', 'Kept'));
    expect(staged).toEqual([{ staged: true }]);
    expect((await documents.get(Product, 'p-1'))?.body.title).toBe('Kept');

    await expect(
      commands.execute(new AddProduct('p-2', 'Rolled back', true)),
    ).rejects.toThrow(/refused after the write/);
    expect(await documents.get(Product, 'p-2')).toBeUndefined();
  });

  it('sets personal fields to their placeholders when their subject is forgotten, here and in another app', async () => {
    const app = await start([CustomerCard]);
    const documents = app.get(Documents);
    await documents.index(CustomerCard, 'card-1', card('c-1', 'Ada Lovelace'));
    await documents.index(CustomerCard, 'card-2', card('c-2', 'Alan Turing'));
    expect(await documents.search(CustomerCard).match('lovelace').count()).toBe(
      1,
    );

    await app.get(PersonalDataService).forgetSubject('c-1');
    const forgotten = await documents.get(CustomerCard, 'card-1');
    expect(forgotten?.body).toMatchObject({
      customerId: 'c-1',
      name: null,
      email: '(forgotten)',
      notes: 'prefers mornings',
      plan: 'gold',
    });
    expect(forgotten?.revision).toBe(2);
    // The search column follows: the name is no longer found.
    expect(await documents.search(CustomerCard).match('lovelace').count()).toBe(
      0,
    );
    expect((await documents.get(CustomerCard, 'card-2'))?.body.name).toBe(
      'Alan Turing',
    );
    // Again: nothing left to change.
    expect(await documents.forget('c-1')).toBe(0);
    expect((await documents.get(CustomerCard, 'card-1'))?.revision).toBe(2);

    // Forgotten by another app on the store: heard of, and followed.
    const other = await start([]);
    await other.get(PersonalDataService).forgetSubject('c-2');
    await waitUntil(
      async () =>
        (await documents.get(CustomerCard, 'card-2'))?.body.name === null,
      'the other app forgetting c-2 reached the documents',
    );
  });

  it('refuses a document class with personal fields but no data subject', async () => {
    @Document('anonymous', {})
    class Anonymous {
      @PersonalData() name!: string;
    }
    await expect(start([Anonymous])).rejects.toThrow(/@DataSubject\(\)/);
  });

  it('refuses the writes of a consumer version rebuilt beside the live one (blue-green), which would overwrite what the live one serves', async () => {
    const v1 = await start([BalanceDoc], [BalanceDocuments]);
    const documents = v1.get(Documents);
    for (const amount of [5, 7])
      await v1.get(EventStore).append('account-a', [deposited('a', amount)]);
    await waitUntil(
      async () => (await documents.get(BalanceDoc, 'a'))?.revision === 2,
      'version 1 projected',
    );

    await start([BalanceDoc], [BalanceDocumentsV2]);
    await waitUntil(
      () => rebuildRefusals.length > 0,
      'version 2 wrote while rebuilding',
    );
    expect(rebuildRefusals[0]).toBeInstanceOf(DocumentsInRebuildError);
    expect(rebuildRefusals[0]).toMatchObject({
      code: 'DOCUMENTS_IN_REBUILD',
      consumer: 'balance-documents',
      collection: 'balances',
    });
    expect((await documents.get(BalanceDoc, 'a'))?.body).toEqual({
      account: 'a',
      total: 12,
      events: 2,
    });
  });

  it('keeps documents exactly once from a consumer: a batch that fails after writing is retried without counting twice', async () => {
    failOnce.amount = 13;
    const app = await start([BalanceDoc], [BalanceDocuments]);
    const documents = app.get(Documents);
    const store = app.get(EventStore);
    const amounts = [5, 7, 13, 2, 1];
    for (const amount of amounts)
      await store.append('account-a', [deposited('a', amount)]);
    await store.append('account-b', [deposited('b', 4)]);

    await waitUntil(
      async () =>
        (await documents.get(BalanceDoc, 'a'))?.body.events ===
          amounts.length &&
        (await documents.get(BalanceDoc, 'b')) !== undefined,
      'every deposit projected',
    );
    expect(failOnce.failed).toBe(true);
    const a = await documents.get(BalanceDoc, 'a');
    expect(a?.body).toEqual({ account: 'a', total: 28, events: 5 });
    // One write per event: the failed attempt's writes went with its transaction.
    expect(a?.revision).toBe(5);

    // A replay from the start empties the collection in the rewind's transaction and fills it again.
    await app
      .get(TrackingService)
      .reset('balance-documents', { to: 'beginning' });
    await waitUntil(
      async () => (await documents.get(BalanceDoc, 'a'))?.revision === 5,
      'the replay projected again',
    );
    expect((await documents.get(BalanceDoc, 'a'))?.body.total).toBe(28);
  });
}
