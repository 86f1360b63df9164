import {
  Aggregate,
  AggregateRoot,
  Apply,
  DataSubject,
  EventType,
  newMessageId,
  PersonalData,
  type NewEvent,
} from '@chronicle/core';

// The customers of the security benchmark, twice: events whose name, email
// and address are @PersonalData of the customer (@DataSubject), sealed on
// append and opened on read, and the same shapes under other type names with
// no decorators, stored as given. The two aggregates fold them alike.

export const PERSONAL_CUSTOMER = 'bench.PersonalCustomer';
export const PLAIN_CUSTOMER = 'bench.PlainCustomer';

const TYPES = {
  personal: {
    registered: 'bench.pd.CustomerRegistered',
    moved: 'bench.pd.CustomerMoved',
  },
  plain: {
    registered: 'bench.plain.CustomerRegistered',
    moved: 'bench.plain.CustomerMoved',
  },
} as const;

export type CustomerKind = keyof typeof TYPES;

@EventType(TYPES.personal.registered)
export class PersonalCustomerRegistered {
  @DataSubject() readonly customerId: string;
  @PersonalData() readonly name: string;
  @PersonalData() readonly email: string;
  readonly plan: string;
  constructor(customerId: string, name: string, email: string, plan: string) {
    this.customerId = customerId;
    this.name = name;
    this.email = email;
    this.plan = plan;
  }
}

@EventType(TYPES.personal.moved)
export class PersonalCustomerMoved {
  @DataSubject() readonly customerId: string;
  @PersonalData() readonly address: string;
  readonly city: string;
  constructor(customerId: string, address: string, city: string) {
    this.customerId = customerId;
    this.address = address;
    this.city = city;
  }
}

@EventType(TYPES.plain.registered)
export class PlainCustomerRegistered {
  constructor(
    readonly customerId: string,
    readonly name: string,
    readonly email: string,
    readonly plan: string,
  ) {}
}

@EventType(TYPES.plain.moved)
export class PlainCustomerMoved {
  constructor(
    readonly customerId: string,
    readonly address: string,
    readonly city: string,
  ) {}
}

/** What both aggregates hold; the same fold over the same shapes. */
abstract class CustomerState extends AggregateRoot {
  name = '';
  email = '';
  plan = '';
  address = '';
  city = '';
  moves = 0;

  protected registered(e: { name: string; email: string; plan: string }) {
    this.name = e.name;
    this.email = e.email;
    this.plan = e.plan;
  }

  protected moved(e: { address: string; city: string }) {
    this.address = e.address;
    this.city = e.city;
    this.moves++;
  }
}

@Aggregate({ type: PERSONAL_CUSTOMER })
export class PersonalCustomer extends CustomerState {
  @Apply(PersonalCustomerRegistered)
  onRegistered(event: PersonalCustomerRegistered): void {
    this.registered(event);
  }

  @Apply(PersonalCustomerMoved)
  onMoved(event: PersonalCustomerMoved): void {
    this.moved(event);
  }
}

@Aggregate({ type: PLAIN_CUSTOMER })
export class PlainCustomer extends CustomerState {
  @Apply(PlainCustomerRegistered)
  onRegistered(event: PlainCustomerRegistered): void {
    this.registered(event);
  }

  @Apply(PlainCustomerMoved)
  onMoved(event: PlainCustomerMoved): void {
    this.moved(event);
  }
}

/** The stream of a customer of `kind`, as `AggregateRepository` names it. */
export function customerStream(kind: CustomerKind, id: string): string {
  return `${kind === 'personal' ? PERSONAL_CUSTOMER : PLAIN_CUSTOMER}-${id}`;
}

/** The name a seeded customer registers with: what a load must read back in clear. */
export function customerName(id: string): string {
  return `Customer ${id}`;
}

/** The n-th event (0-based) of customer `id`: registered first, then moves. */
function customerEvent(
  kind: CustomerKind,
  id: string,
  n: number,
): { type: string; payload: Record<string, unknown> } {
  if (n === 0) {
    return {
      type: TYPES[kind].registered,
      payload: {
        customerId: id,
        name: customerName(id),
        email: `${id}@example.com`,
        plan: 'basic',
      },
    };
  }
  return {
    type: TYPES[kind].moved,
    payload: { customerId: id, address: `${n} Harbour Street`, city: 'Ghent' },
  };
}

/** Envelopes for events `from`..`from + count - 1` of customer `id`. */
export function customerEvents(
  kind: CustomerKind,
  id: string,
  from: number,
  count: number,
): NewEvent[] {
  const correlationId = newMessageId();
  const timestamp = new Date();
  return Array.from({ length: count }, (_, i) => ({
    ...customerEvent(kind, id, from + i),
    id: newMessageId(),
    revision: 1,
    metadata: { correlationId },
    timestamp,
  }));
}
