import {
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { CapturingLogger, Test } from '@nestjs/testing';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  DataSubject,
  EventType,
  HandleEvent,
  InjectAggregateRepository,
  PersonalData,
  Upcaster,
  type EventData,
  type ICommandHandler,
  type KeyStore,
  type SqlClient,
} from '../src/index.js';
import { FAST_TRACKING } from './tracking.fixture.js';

export const CUSTOMER_TYPE = 'pd.Customer';

@EventType('pd.CustomerRegistered')
export class CustomerRegistered {
  @DataSubject() readonly customerId: string;
  @PersonalData() readonly name: string;
  @PersonalData({ placeholder: '(forgotten)' }) readonly email: string;
  readonly plan: string;
  constructor(customerId: string, name: string, email: string, plan: string) {
    this.customerId = customerId;
    this.name = name;
    this.email = email;
    this.plan = plan;
  }
}

@EventType('pd.CustomerRenamed')
export class CustomerRenamed {
  @DataSubject() readonly customerId: string;
  @PersonalData() readonly name: string;
  constructor(customerId: string, name: string) {
    this.customerId = customerId;
    this.name = name;
  }
}

/** Revision 1 held the address as one line of text; revision 2 as an object. */
@EventType('pd.CustomerMoved', { revision: 2 })
export class CustomerMoved {
  @DataSubject() readonly customerId: string;
  @PersonalData() readonly address: { line: string | null };
  constructor(customerId: string, address: { line: string | null }) {
    this.customerId = customerId;
    this.address = address;
  }
}

@Injectable()
export class CustomerUpcasters {
  @Upcaster('pd.CustomerMoved', 1)
  toObject({ payload }: EventData) {
    return { payload: { ...payload, address: { line: payload.address } } };
  }
}

@Aggregate({ type: CUSTOMER_TYPE, snapshotEvery: 2 })
export class Customer extends AggregateRoot {
  name: string | null = null;
  email: string | null = null;
  plan = '';
  renames = 0;
  address: { line: string | null } | null = null;

  register(name: string, email: string, plan: string): void {
    this.apply(new CustomerRegistered(this.id, name, email, plan));
  }

  rename(name: string): void {
    this.apply(new CustomerRenamed(this.id, name));
  }

  @Apply(CustomerRegistered)
  onRegistered(event: CustomerRegistered): void {
    this.name = event.name;
    this.email = event.email;
    this.plan = event.plan;
  }

  @Apply(CustomerMoved)
  onMoved(event: CustomerMoved): void {
    this.address = event.address;
  }

  @Apply(CustomerRenamed)
  onRenamed(event: CustomerRenamed): void {
    this.name = event.name;
    this.renames++;
  }
}

@CommandType('pd.RegisterCustomer')
export class RegisterCustomer extends Command<{ version: number }> {
  @PersonalData() readonly name: string;
  @PersonalData() readonly email: string;
  constructor(
    readonly id: string,
    name: string,
    email: string,
    readonly plan = 'basic',
  ) {
    super();
    this.name = name;
    this.email = email;
  }
}

@CommandType('pd.RenameCustomer')
export class RenameCustomer extends Command<{ version: number }> {
  @PersonalData() readonly name: string;
  constructor(
    readonly id: string,
    name: string,
  ) {
    super();
    this.name = name;
  }
}

@CommandHandler(RegisterCustomer)
export class RegisterCustomerHandler implements ICommandHandler<RegisterCustomer> {
  constructor(
    @InjectAggregateRepository(Customer)
    private readonly customers: AggregateRepository<Customer>,
  ) {}

  async execute({ id, name, email, plan }: RegisterCustomer) {
    const customer = await this.customers.loadOrCreate(id);
    customer.register(name, email, plan);
    await this.customers.save(customer);
    return { version: customer.version };
  }
}

@CommandHandler(RenameCustomer)
export class RenameCustomerHandler implements ICommandHandler<RenameCustomer> {
  constructor(
    @InjectAggregateRepository(Customer)
    private readonly customers: AggregateRepository<Customer>,
  ) {}

  async execute({ id, name }: RenameCustomer) {
    const customer = await this.customers.load(id);
    customer.rename(name);
    await this.customers.save(customer);
    return { version: customer.version };
  }
}

/** What the directory consumer saw, per customer, in order. */
@Injectable()
export class Directory {
  readonly seen: { customerId: string; name: string | null; email?: string }[] =
    [];
}

@Consumer('pd-directory')
export class DirectoryProjection {
  constructor(private readonly directory: Directory) {}

  @HandleEvent(CustomerRegistered)
  onRegistered(event: CustomerRegistered): void {
    this.directory.seen.push({
      customerId: event.customerId,
      name: event.name,
      email: event.email,
    });
  }

  @HandleEvent(CustomerRenamed)
  onRenamed(event: CustomerRenamed): void {
    this.directory.seen.push({
      customerId: event.customerId,
      name: event.name,
    });
  }
}

/** A customers app on a schema, with its directory consumer. */
export async function customersApp(
  client: SqlClient,
  schema: string,
  options: { masterKey?: string; cache?: boolean; keyStore?: KeyStore } = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [ChronicleModule.forFeature([Customer])],
    providers: [
      RegisterCustomerHandler,
      RenameCustomerHandler,
      CustomerUpcasters,
      Directory,
      DirectoryProjection,
    ],
  })
  class CustomersModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client, schema },
        tracking: FAST_TRACKING,
        aggregates: { cache: options.cache ?? false },
        personalData: {
          masterKey: options.masterKey,
          keyStore: options.keyStore,
        },
      }),
      CustomersModule,
    ],
  })
    .setLogger(new CapturingLogger())
    .compile();
  return moduleRef.init();
}
