import {
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  CommandHandler,
  CommandType,
  Consumer,
  DataSubject,
  Document,
  Documents,
  HandleEvent,
  OnReset,
  PersonalData,
  type CollectionDeclaration,
  type DocumentClass,
  type ICommandHandler,
  type SqlClient,
  type WriteOutcome,
} from '../src/index.js';
import { Deposited, FAST_TRACKING } from './tracking.fixture.js';

// Documents, the commands and consumers that write them, and the app they run in.

@Document('products', {
  indexes: [
    'sku',
    'price',
    'category',
    'addedAt',
    'maker.country',
    { path: 'tags', using: 'gin' },
  ],
  text: ['title', 'description'],
})
export class Product {
  sku!: string;
  title!: string;
  description?: string;
  price?: number | string | boolean;
  category?: string | null;
  tags?: string[];
  addedAt?: string;
  maker?: { name: string; country: string };

  label(): string {
    return `${this.sku}: ${this.title}`;
  }
}

export function product(fields: Partial<Product> & { sku: string }): Product {
  return Object.assign(new Product(), { title: fields.sku, ...fields });
}

/** A customer's card: personal fields that follow forgetSubject. */
@Document('customers', { text: ['name', 'notes'] })
export class CustomerCard {
  @DataSubject() customerId!: string;
  @PersonalData() name!: string | null;
  @PersonalData({ placeholder: '(forgotten)' }) email!: string;
  notes!: string;
  plan!: string;
}

export function card(customerId: string, name: string): CustomerCard {
  return Object.assign(new CustomerCard(), {
    customerId,
    name,
    email: `${customerId}@example.com`,
    notes: 'prefers mornings',
    plan: 'gold',
  });
}

/** A balance per account, kept by the consumer below. */
@Document('balances', { indexes: ['total'] })
export class BalanceDoc {
  account!: string;
  total!: number;
  events!: number;
}

/** Makes the consumer fail once, after its write, on the event with this amount. */
export const failOnce = { amount: Number.NaN, failed: false };

@Consumer('balance-documents', { batchSize: 50, retryDelayMs: 5 })
export class BalanceDocuments {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited): Promise<void> {
    const current = await this.documents.get(BalanceDoc, event.account);
    await this.documents.index(
      BalanceDoc,
      event.account,
      {
        account: event.account,
        total: (current?.body.total ?? 0) + event.amount,
        events: (current?.body.events ?? 0) + 1,
      },
      { expectedRevision: current?.revision ?? 'absent' },
    );
    if (event.amount === failOnce.amount && !failOnce.failed) {
      failOnce.failed = true;
      throw new Error('failing once after the write');
    }
  }

  @OnReset()
  async clear(): Promise<void> {
    await this.documents.deleteWhere(BalanceDoc, (all) => all);
  }
}

/** What version 2 of balance-documents met when it wrote, rebuilt beside version 1. */
export const rebuildRefusals: unknown[] = [];

@Consumer('balance-documents', {
  version: 2,
  batchSize: 50,
  retryDelayMs: 5,
  // A version rebuilds its consumer's declared tables: it needs one.
  tables: ['CREATE TABLE seen (account text)'],
})
export class BalanceDocumentsV2 {
  constructor(private readonly documents: Documents) {}

  @HandleEvent(Deposited)
  async onDeposited(event: Deposited): Promise<void> {
    try {
      await this.documents.index(BalanceDoc, event.account, {
        account: event.account,
        total: -1,
        events: -1,
      });
    } catch (error) {
      rebuildRefusals.push(error);
    }
  }
}

@CommandType('docs.AddProduct')
export class AddProduct {
  constructor(
    readonly sku: string,
    readonly title: string,
    readonly fail = false,
  ) {}
}

/** What the handler's writes returned, inside the command. */
export const staged: WriteOutcome<{ revision: number }>[] = [];

@CommandHandler(AddProduct)
export class AddProductHandler implements ICommandHandler<AddProduct> {
  constructor(private readonly documents: Documents) {}

  async execute(command: AddProduct): Promise<void> {
    staged.push(
      await this.documents.index(Product, command.sku, product(command)),
    );
    if (command.fail) throw new Error('refused after the write');
  }
}

export async function documentsApp(
  client: SqlClient,
  schema: string,
  collections: readonly (DocumentClass | CollectionDeclaration)[],
  providers: Provider[] = [],
): Promise<INestApplicationContext> {
  @Module({ providers })
  class FeatureModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        tracking: FAST_TRACKING,
        documents: { collections },
      }),
      FeatureModule,
    ],
  }).compile();
  return moduleRef.init();
}
