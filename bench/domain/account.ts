import {
  Aggregate,
  AggregateRoot,
  Apply,
  EventType,
  newMessageId,
  type NewEvent,
} from '@chronicle/core';

// A small bank-account domain with three event types, used by the rehydrate and
// commands benchmarks. The plain fold at the end does the same state work
// without Chronicle, for the raw-pg baselines.

export const ACCOUNT_TYPE = 'bench.Account';
export const OPENED = 'bench.AccountOpened';
export const DEPOSITED = 'bench.Deposited';
export const WITHDRAWN = 'bench.Withdrawn';

@EventType(OPENED)
export class AccountOpened {
  constructor(
    readonly owner: string,
    readonly currency: string,
  ) {}
}

@EventType(DEPOSITED)
export class Deposited {
  constructor(
    readonly amount: number,
    readonly reference: string,
  ) {}
}

@EventType(WITHDRAWN)
export class Withdrawn {
  constructor(
    readonly amount: number,
    readonly reference: string,
  ) {}
}

export class AccountClosed extends Error {}

@Aggregate({ type: ACCOUNT_TYPE })
export class Account extends AggregateRoot {
  owner = '';
  currency = '';
  balance = 0;
  movements = 0;
  lastReference = '';

  deposit(amount: number, reference: string): void {
    if (this.owner === '') throw new AccountClosed(`No account ${this.id}`);
    this.apply(new Deposited(amount, reference));
  }

  @Apply(AccountOpened)
  onOpened(event: AccountOpened): void {
    this.owner = event.owner;
    this.currency = event.currency;
  }

  @Apply(Deposited)
  onDeposited(event: Deposited): void {
    this.balance += event.amount;
    this.movements++;
    this.lastReference = event.reference;
  }

  @Apply(Withdrawn)
  onWithdrawn(event: Withdrawn): void {
    this.balance -= event.amount;
    this.movements++;
    this.lastReference = event.reference;
  }
}

/** The stream of the account with this id, as `AggregateRepository` names it. */
export function accountStream(id: string): string {
  return `${ACCOUNT_TYPE}-${id}`;
}

/** The payload and type of the n-th event (0-based) of a seeded account. */
export function seedEvent(n: number): {
  type: string;
  payload: Record<string, unknown>;
} {
  if (n === 0) {
    return { type: OPENED, payload: { owner: 'ada', currency: 'EUR' } };
  }
  return n % 3 === 0
    ? { type: WITHDRAWN, payload: { amount: n % 7, reference: `w-${n}` } }
    : { type: DEPOSITED, payload: { amount: n % 11, reference: `d-${n}` } };
}

/** Envelopes for events `from`..`from + count - 1` of a seeded account. */
export function seedEnvelopes(from: number, count: number): NewEvent[] {
  const correlationId = newMessageId();
  return Array.from({ length: count }, (_, i) => ({
    ...seedEvent(from + i),
    id: newMessageId(),
    revision: 1,
    metadata: { correlationId },
    timestamp: new Date(),
  }));
}

/** An account's state without Chronicle: what the raw-pg baselines fold into. */
export interface AccountState {
  owner: string;
  currency: string;
  balance: number;
  movements: number;
  lastReference: string;
  version: number;
}

interface OpenedPayload {
  owner: string;
  currency: string;
}

interface MovementPayload {
  amount: number;
  reference: string;
}

/** The same state work as `Account`'s @Apply methods, over rows pg already parsed. */
export function foldAccount(
  rows: readonly { type: string; payload: unknown }[],
): AccountState {
  const state: AccountState = {
    owner: '',
    currency: '',
    balance: 0,
    movements: 0,
    lastReference: '',
    version: 0,
  };
  for (const row of rows) {
    switch (row.type) {
      case OPENED: {
        const e = row.payload as OpenedPayload;
        state.owner = e.owner;
        state.currency = e.currency;
        break;
      }
      case DEPOSITED: {
        const e = row.payload as MovementPayload;
        state.balance += e.amount;
        state.movements++;
        state.lastReference = e.reference;
        break;
      }
      case WITHDRAWN: {
        const e = row.payload as MovementPayload;
        state.balance -= e.amount;
        state.movements++;
        state.lastReference = e.reference;
        break;
      }
    }
    state.version++;
  }
  return state;
}
