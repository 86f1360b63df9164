import type { INestApplicationContext, Provider } from '@nestjs/common';
import {
  CollectionFilledByConsumerError,
  CommandBus,
  DataSubject,
  forgetSubject,
  PersonalData,
  StoreSchema,
  CommandHandler,
  CommandType,
  Consumer,
  Document,
  Documents,
  EventStore,
  HandleEvent,
  TrackingService,
  type ICommandHandler,
  type SqlClient,
} from '../src/index.js';
import { freshSchema, type TestDatabase } from './databases.js';
import {
  Deposited,
  deposited,
  FAST_TRACKING,
  trackingApp,
} from './tracking.fixture.js';
import { waitUntil } from './wait-until.js';

// Document collections a consumer fills (its documents option): kept in the
// consumer's schema, one copy per version, so a reset empties them and a
// blue-green rebuild fills a copy of its own while the live one serves.

@Document('account_views', { indexes: ['total'] })
class AccountView {
  account!: string;
  total!: number;
  deposits?: number;
}

/** Version 2's declaration: another index, and a field version 1 never wrote. */
@Document('account_views', { indexes: ['total', 'deposits'] })
class AccountViewV2 {
  account!: string;
  total!: number;
  deposits!: number;
}

@Consumer('account-views', { documents: [AccountView], batchSize: 100 })
class AccountViewsV1 {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited): Promise<void> {
    const current = await this.documents.get(AccountView, event.account);
    await this.documents.index(AccountView, event.account, {
      account: event.account,
      total: (current?.body.total ?? 0) + event.amount,
    });
  }
}

/** Holds version 2's rebuild at its first event until the test lets it go. */
const gate = { opened: Promise.resolve(), open: () => undefined as void };

@Consumer('account-views', {
  version: 2,
  documents: [AccountViewV2],
  batchSize: 100,
})
class AccountViewsV2 {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited): Promise<void> {
    await gate.opened;
    // It reads its own copy: what it wrote, not what version 1 serves.
    const current = await this.documents.get(AccountViewV2, event.account);
    await this.documents.index(AccountViewV2, event.account, {
      account: event.account,
      total: (current?.body.total ?? 0) + event.amount,
      deposits: (current?.body.deposits ?? 0) + 1,
    });
  }
}

/** A holder card per account: a personal field, filled from events that carry none. */
@Document('holder_cards')
class HolderCard {
  @DataSubject() account!: string;
  @PersonalData({ placeholder: '(forgotten)' }) holder!: string;
  deposits!: number;
}

@Consumer('holder-cards', { documents: [HolderCard] })
class HolderCards {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited): Promise<void> {
    const current = await this.documents.get(HolderCard, event.account);
    await this.documents.index(HolderCard, event.account, {
      account: event.account,
      holder: current?.body.holder ?? `Holder of ${event.account}`,
      deposits: (current?.body.deposits ?? 0) + 1,
    });
  }
}

@CommandType('filled.Adjust')
class Adjust {
  constructor(readonly account: string) {}
}

@CommandHandler(Adjust)
class AdjustHandler implements ICommandHandler<Adjust> {
  constructor(private readonly documents: Documents) {}

  async execute(command: Adjust): Promise<void> {
    await this.documents.index(AccountView, command.account, {
      account: command.account,
      total: 1_000_000,
    });
  }
}

export function filledCollectionsSuite(database: () => TestDatabase): void {
  let client: SqlClient;
  let schema: string;
  const apps: INestApplicationContext[] = [];

  beforeEach(() => {
    client = database().client();
    schema = freshSchema('fc');
    let open: () => void = () => undefined;
    gate.opened = new Promise<void>((resolve) => (open = resolve));
    gate.open = () => open();
  });

  afterEach(async () => {
    gate.open();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const own = await client.query<{ name: string }>(
      'SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1::text)',
      [schema],
    );
    for (const { name } of own)
      await client.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });

  const start = async (providers: Provider[]) => {
    const app = await trackingApp(client, schema, providers, {
      ...FAST_TRACKING,
      retiredSchemaGraceMs: 0,
    });
    apps.push(app);
    return app;
  };

  /** 6 accounts, 5 deposits each: account i's total is 5 × (i + 1). */
  const deposit = async (store: EventStore) => {
    for (let a = 0; a < 6; a++) {
      await store.append(
        `account-a${a}`,
        Array.from({ length: 5 }, () => deposited(`a${a}`, a + 1)),
      );
    }
  };
  const EXPECTED_SUM = 5 * (1 + 2 + 3 + 4 + 5 + 6);

  const views = async (app: INestApplicationContext) => {
    const page = await app
      .get(Documents)
      .search(AccountViewV2)
      .sortBy('account')
      .limit(100)
      .page();
    return page.items.map((hit) => hit.body);
  };
  const sum = (rows: readonly { total: number }[]) =>
    rows.reduce((s, r) => s + r.total, 0);

  const tableExists = async (table: string) =>
    (
      await client.query(
        'SELECT 1 FROM pg_tables WHERE schemaname = $1::text AND tablename = $2::text',
        [table.split('.')[0], table.split('.')[1]],
      )
    ).length === 1;

  it("keeps the collection in the consumer's schema, readable by the app, written only by the consumer", async () => {
    const app = await start([AccountViewsV1, AdjustHandler]);
    await deposit(app.get(EventStore));
    await waitUntil(
      async () => sum(await views(app)) === EXPECTED_SUM,
      'the consumer filled the collection',
    );
    expect(
      await tableExists(
        `${schema}_projections_account_views.documents_account_views`,
      ),
    ).toBe(true);
    expect(await app.get(Documents).get(AccountView, 'a2')).toMatchObject({
      revision: 5,
      body: { account: 'a2', total: 15 },
    });

    // Anything but the consumer's handlers would write what a rebuild loses.
    await expect(
      app.get(Documents).index(AccountView, 'a0', { account: 'a0', total: 0 }),
    ).rejects.toBeInstanceOf(CollectionFilledByConsumerError);
    const refused = app.get(CommandBus).execute(new Adjust('a0'));
    await expect(refused).rejects.toMatchObject({
      code: 'COLLECTION_FILLED_BY_CONSUMER',
      collection: 'account_views',
      consumer: 'account-views',
    });
    expect((await app.get(Documents).get(AccountView, 'a0'))?.body.total).toBe(
      5,
    );
  });

  it('is emptied by a reset to the beginning and filled again once, with no @OnReset', async () => {
    const app = await start([AccountViewsV1]);
    await deposit(app.get(EventStore));
    await waitUntil(
      async () => sum(await views(app)) === EXPECTED_SUM,
      'the consumer filled the collection',
    );
    await app.get(TrackingService).reset('account-views', { to: 'beginning' });
    await waitUntil(
      async () =>
        (await app.get(Documents).get(AccountView, 'a5'))?.revision === 5 &&
        sum(await views(app)) === EXPECTED_SUM,
      'the replay filled the emptied collection again',
    );
    const rows = await views(app);
    expect(rows).toHaveLength(6);
    expect(sum(rows)).toBe(EXPECTED_SUM);
  });

  it('is rebuilt by a new version into a copy of its own while the live copy serves, and reads switch with the version', async () => {
    const v1 = await start([AccountViewsV1]);
    const store = v1.get(EventStore);
    await deposit(store);
    await waitUntil(
      async () => sum(await views(v1)) === EXPECTED_SUM,
      'version 1 filled the collection',
    );

    // Version 2 deploys beside it; its rebuild is held at its first event.
    const v2 = await start([AccountViewsV2]);
    const v1Table = `${schema}_projections_account_views.documents_account_views`;
    const v2Table = `${schema}_projections_account_views_v2.documents_account_views`;
    expect(await tableExists(v2Table)).toBe(true);
    // Version 2's declared index is made on its copy only.
    const indexes = await client.query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = $1::text',
      [`${schema}_projections_account_views_v2`],
    );
    expect(indexes.some((i) => i.indexdef.includes('{deposits}'))).toBe(true);
    // Both apps read version 1's copy, complete, without version 2's field.
    const before = await views(v2);
    expect(sum(before)).toBe(EXPECTED_SUM);
    expect(before.every((row) => row.deposits === undefined)).toBe(true);

    // Version 1 keeps projecting live events meanwhile.
    await store.append('account-a0', [deposited('a0', 100)]);
    await waitUntil(
      async () => sum(await views(v2)) === EXPECTED_SUM + 100,
      'version 1 projected a live deposit, read through version 2',
    );

    // Let the rebuild go: every read sees a complete copy, first version 1's, then version 2's.
    gate.open();
    let switched = false;
    while (!switched) {
      const rows = await views(v2);
      expect(sum(rows)).toBe(EXPECTED_SUM + 100);
      switched = rows.every((row) => row.deposits !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await views(v2)).toContainEqual(
      expect.objectContaining({ account: 'a0', total: 105, deposits: 6 }),
    );

    // The retired app reads the live copy too, once its schema is gone.
    await waitUntil(
      async () => !(await tableExists(v1Table)),
      "version 1's copy dropped (grace 0 in this test)",
    );
    await waitUntil(
      async () => (await views(v1)).every((row) => row.deposits !== undefined),
      'the retired app reads the live copy',
    );
    expect(sum(await views(v1))).toBe(EXPECTED_SUM + 100);
  }, 120_000);

  it('applies a forget recorded while no instance ran to the copy the consumer fills, at its next start', async () => {
    const first = await start([HolderCards]);
    await deposit(first.get(EventStore));
    const card = (app: INestApplicationContext, account: string) =>
      app.get(Documents).get(HolderCard, account);
    await waitUntil(
      async () => (await card(first, 'a5'))?.body.deposits === 5,
      'the consumer filled the cards',
    );
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    await forgetSubject(client, new StoreSchema(schema), 'a1');
    const again = await start([HolderCards]);
    expect((await card(again, 'a1'))?.body).toMatchObject({
      account: 'a1',
      holder: '(forgotten)',
      deposits: 5,
    });
    expect((await card(again, 'a2'))?.body.holder).toBe('Holder of a2');
  });
}
