import { Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Documents,
  QueryBus,
  remoteSearch,
  searchDocumentsHandler,
  searchDocumentsQuery,
  type DocumentClass,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../test/nats.js';
import { product, Product } from '../../test/documents.fixture.js';

// App "catalogue" owns the products and answers their searches; app
// "storefront" declares no collection and asks over NATS.

const database = postgresDatabase();
const schema = freshSchema('dnats');
const namespace = freshNamespace();
const apps: INestApplicationContext[] = [];

async function start(
  app: string,
  collections: DocumentClass[],
): Promise<INestApplicationContext> {
  @Module({ providers: collections.map((c) => searchDocumentsHandler(c)) })
  class Feature {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app,
        database: { client: database.client(), schema },
        transport: { nats: { servers: NATS_URL }, namespace },
        documents: { collections },
      }),
      Feature,
    ],
  }).compile();
  const started = await moduleRef.init();
  apps.push(started);
  return started;
}

afterAll(async () => {
  while (apps.length > 0) await apps.pop()?.close();
  await database
    .client()
    .exec(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_projections" CASCADE`,
    );
  await database.close();
});

describe('SearchDocuments over NATS', () => {
  it('is answered by the app that owns the collection, pages, counts and facets alike', async () => {
    const catalogue = await start('catalogue', [Product]);
    const storefront = await start('storefront', []);
    const documents = catalogue.get(Documents);
    for (let i = 0; i < 7; i++) {
      await documents.index(
        Product,
        `p-${i}`,
        product({
          sku: `p-${i}`,
          title: i % 2 === 0 ? `Red shoe ${i}` : `Hat ${i}`,
          category: i % 2 === 0 ? 'shoes' : 'hats',
          price: i * 10,
          tags: i % 3 === 0 ? ['sale', 'sale', 'new'] : ['new'],
        }),
      );
    }
    // As a contracts package declares it, for both apps.
    const SearchProducts = searchDocumentsQuery('products');
    const search = () =>
      remoteSearch<Product>(storefront.get(QueryBus), SearchProducts);

    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await search()
        .eq('category', 'shoes')
        .sortBy('price', 'desc')
        .limit(3)
        .after(next)
        .page();
      seen.push(...page.items.map((item) => item.id));
      next = page.next;
    } while (next);
    expect(seen).toEqual(['p-6', 'p-4', 'p-2', 'p-0']);
    expect(await search().match('shoe').count()).toBe(4);
    expect(await search().facets('category')).toEqual([
      { value: 'shoes', count: 4 },
      { value: 'hats', count: 3 },
    ]);
    // An array counts per element, once per document, over the wire too.
    expect(await search().eq('category', 'shoes').facets('tags')).toEqual([
      { value: 'new', count: 4 },
      { value: 'sale', count: 2 },
    ]);
    await expect(
      storefront
        .get(QueryBus)
        .execute(
          new SearchProducts('facets', { filters: [] }, { path: '', limit: 5 }),
        ),
    ).rejects.toThrow(/field name|path/);

    // A search the owner refuses comes back as an error naming what was wrong.
    await expect(
      storefront
        .get(QueryBus)
        .execute(new SearchProducts('page', { filters: [], limit: 5000 })),
    ).rejects.toThrow(/limit is 5000/);
  });
});
