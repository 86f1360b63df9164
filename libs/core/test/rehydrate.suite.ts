import { Type } from 'class-transformer';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  EventType,
  EventUpcaster,
  UnknownMessageTypeError,
  newMessageId,
  type NewEvent,
  type PostgresEventStore,
  type StoredEvent,
} from '../src/index.js';
import type { TestDatabase } from './databases.js';

// Rebuilding aggregates and reading streams the fast way must change nothing a
// reader can see: instances of the declared classes, upcasters with the
// metadata, time travel, and every field of a stored event.

export class Money {
  amount = 0;
  currency = '';
  get label(): string {
    return `${this.amount} ${this.currency}`;
  }
}

@EventType('rh.Opened')
export class Opened {
  owner = '';
  @Type(() => Date)
  at!: Date;
  @Type(() => Money)
  limit!: Money;
}

/** Undecorated: rebuilt without class-transformer; `note` has a default. */
@EventType('rh.Moved', { revision: 2 })
export class Moved {
  amount = 0;
  note = 'none';
  describe(): string {
    return `${this.amount} (${this.note})`;
  }
}

@Aggregate({ type: 'rh.Ledger' })
export class Ledger extends AggregateRoot {
  opened?: Opened;
  total = 0;
  moves: Moved[] = [];

  @Apply(Opened)
  onOpened(event: Opened): void {
    this.opened = event;
  }

  @Apply(Moved)
  onMoved(event: Moved): void {
    this.total += event.amount;
    this.moves.push(event);
  }
}

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

function stored(
  type: string,
  revision: number,
  payload: Record<string, unknown>,
  i: number,
  user = 'ada',
): NewEvent {
  return {
    id: newMessageId(),
    type,
    revision,
    payload,
    metadata: { correlationId: 'c-1', user },
    timestamp: new Date(START + i * DAY + 123),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function rehydrateSuite(database: () => TestDatabase): void {
  let store: PostgresEventStore;
  let ledgers: AggregateRepository<Ledger>;
  // Revision 1 of rh.Moved stored `value`; its upcaster takes the note from the metadata.
  const upcaster = new EventUpcaster().add(
    'rh.Moved',
    1,
    ({ payload, metadata }) => ({
      payload: { amount: payload.value, note: `by ${String(metadata.user)}` },
    }),
  );

  beforeEach(async () => {
    store = await database().freshStore();
    ledgers = new AggregateRepository(Ledger, store, undefined, { upcaster });
  });

  /** An opened ledger and `count` moves of 1..count, every tenth of revision 1. */
  async function seed(id: string, count: number): Promise<NewEvent[]> {
    const events = [
      stored(
        'rh.Opened',
        1,
        {
          owner: 'ada',
          at: '2024-01-01T10:00:00.000Z',
          limit: { amount: 5, currency: 'EUR' },
        },
        0,
      ),
    ];
    for (let i = 1; i <= count; i++) {
      events.push(
        i % 10 === 0
          ? stored('rh.Moved', 1, { value: i }, i, `u${i}`)
          : stored(
              'rh.Moved',
              2,
              i % 7 === 0 ? { amount: i } : { amount: i, note: `n${i}` },
              i,
            ),
      );
    }
    for (let from = 0; from < events.length; from += 500) {
      await store.append(`rh.Ledger-${id}`, events.slice(from, from + 500));
    }
    return events;
  }

  it('rebuilds a stream longer than a batch as instances of the declared classes, through the upcaster where one applies', async () => {
    await seed('long', 1500);
    const ledger = await ledgers.load('long');

    expect(ledger.version).toBe(1501);
    expect(ledger.total).toBe((1500 * 1501) / 2);
    expect(ledger.opened).toBeInstanceOf(Opened);
    expect(ledger.opened?.at).toBeInstanceOf(Date);
    expect(ledger.opened?.at.toISOString()).toBe('2024-01-01T10:00:00.000Z');
    expect(ledger.opened?.limit).toBeInstanceOf(Money);
    expect(ledger.opened?.limit.label).toBe('5 EUR');
    expect(ledger.moves.every((m) => m instanceof Moved)).toBe(true);
    // A field the payload lacks keeps the class's default; the upcaster saw the metadata.
    expect(ledger.moves[6].describe()).toBe('7 (none)');
    expect(ledger.moves[0].describe()).toBe('1 (n1)');
    expect(ledger.moves[9].describe()).toBe('10 (by u10)');
    expect(ledger.moves[1499].describe()).toBe('1500 (by u1500)');
  });

  it('travels in time by version, position and date', async () => {
    await seed('tt', 30);
    const events = await collect(store.readStream('rh.Ledger-tt'));

    const atVersion = await ledgers.load('tt', { atVersion: 11 });
    expect([atVersion.version, atVersion.total]).toEqual([11, 55]);

    const byPosition = await ledgers.load('tt', {
      until: events[20].position,
    });
    expect([byPosition.version, byPosition.total]).toEqual([21, 210]);
    const byNumber = await ledgers.load('tt', {
      until: Number(events[5].position),
    });
    expect(byNumber.version).toBe(6);

    // Event i was stored at START + i days (+123 ms).
    const byDate = await ledgers.load('tt', {
      until: new Date(START + 12 * DAY + 123),
    });
    expect([byDate.version, byDate.total]).toEqual([13, 78]);
    const justBefore = await ledgers.load('tt', {
      until: new Date(START + 12 * DAY + 122),
    });
    expect(justBefore.version).toBe(12);
  });

  it('names an unknown stored type with its position', async () => {
    await store.append('rh.Ledger-odd', [
      stored('rh.Moved', 2, { amount: 1 }, 0),
      stored('rh.Gone', 1, {}, 1),
    ]);
    const [, gone] = await collect(store.readStream('rh.Ledger-odd'));
    const error = await ledgers.load('odd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownMessageTypeError);
    expect((error as Error).message).toContain(
      `"rh.Gone" revision 1 at position ${gone.position}`,
    );
  });

  it('reads every field of a stream longer than a batch, with frozen metadata', async () => {
    const written = await seed('fields', 1500);
    const read: StoredEvent[] = await collect(
      store.readStream('rh.Ledger-fields'),
    );

    expect(read).toHaveLength(1501);
    read.forEach((event, i) => {
      expect(event).toMatchObject({
        id: written[i].id,
        type: written[i].type,
        revision: written[i].revision,
        payload: written[i].payload,
        metadata: written[i].metadata,
        streamId: 'rh.Ledger-fields',
        streamVersion: i + 1,
      });
      expect(event.timestamp.getTime()).toBe(written[i].timestamp.getTime());
      expect(typeof event.transactionId).toBe('bigint');
      if (i > 0) expect(event.position > read[i - 1].position).toBe(true);
    });
    expect(read.every((e) => Object.isFrozen(e.metadata))).toBe(true);

    // A read left early stops; the next one starts afresh.
    const first: StoredEvent[] = [];
    for await (const event of store.readStream('rh.Ledger-fields')) {
      first.push(event);
      if (first.length === 3) break;
    }
    expect(first.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    const again = await collect(
      store.readStream('rh.Ledger-fields', { fromVersion: 1499 }),
    );
    expect(again.map((e) => e.streamVersion)).toEqual([1499, 1500, 1501]);
  });
}
