import { EventType } from '../message-type.decorators.js';
import {
  UnknownMessageTypeError,
  UnsupportedRevisionError,
} from '../message-type.errors.js';
import {
  DuplicateUpcasterError,
  EventUpcaster,
  UpcastFailedError,
  Upcaster,
  type EventData,
  type UpcastableEvent,
} from './index.js';

// Revision 3 of an order placed: { orderId, amount: { value, currency } }.
// r1 was { orderId, total }, r2 was { orderId, total, currency }.
@EventType('up.OrderPlaced', { revision: 3 })
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly amount: { value: number; currency: string },
  ) {}
}

// Was 'up.CustomerSignedUp'; renamed.
@EventType('up.CustomerRegistered', { revision: 1 })
export class CustomerRegistered {
  constructor(readonly name: string) {}
}

// 'up.ItemsAdded' r1 carried several items; now one event per item.
@EventType('up.ItemAdded', { revision: 1 })
export class ItemAdded {
  constructor(readonly sku: string) {}
}

class OrderUpcasters {
  @Upcaster('up.OrderPlaced', 1)
  addCurrency(event: EventData) {
    return { payload: { ...event.payload, currency: 'EUR' } };
  }

  @Upcaster('up.OrderPlaced', 2)
  nestAmount({ payload }: EventData) {
    const { orderId, total, currency } = payload;
    return { payload: { orderId, amount: { value: total, currency } } };
  }

  @Upcaster('up.CustomerSignedUp', 1)
  rename(event: EventData) {
    return { type: 'up.CustomerRegistered', payload: { ...event.payload } };
  }

  @Upcaster('up.ItemsAdded', 1)
  split({ payload }: EventData) {
    return (payload.skus as string[]).map((sku) => ({
      type: 'up.ItemAdded',
      payload: { sku },
    }));
  }

  // Heartbeats were stored once; nothing reads them any more.
  @Upcaster('up.Heartbeat', 1)
  drop() {
    return null;
  }
}

let position = 0n;
function stored(
  type: string,
  revision: number,
  payload: Record<string, unknown>,
): UpcastableEvent {
  position++;
  return {
    id: `e-${position}`,
    type,
    revision,
    payload,
    metadata: { correlationId: 'c' },
    timestamp: new Date(0),
    position,
  };
}

describe('EventUpcaster', () => {
  const upcaster = EventUpcaster.of(new OrderUpcasters());

  it('chains upcasters from revision 1 through 2 to 3, and leaves current events alone', () => {
    const r1 = stored('up.OrderPlaced', 1, { orderId: 'o-1', total: 10 });
    const r2 = stored('up.OrderPlaced', 2, {
      orderId: 'o-2',
      total: 20,
      currency: 'USD',
    });
    const r3 = stored('up.OrderPlaced', 3, {
      orderId: 'o-3',
      amount: { value: 30, currency: 'GBP' },
    });
    const out = upcaster.upcast([r1, r2, r3]);
    expect(out.map((e) => [e.type, e.revision, e.payload])).toEqual([
      [
        'up.OrderPlaced',
        3,
        { orderId: 'o-1', amount: { value: 10, currency: 'EUR' } },
      ],
      [
        'up.OrderPlaced',
        3,
        { orderId: 'o-2', amount: { value: 20, currency: 'USD' } },
      ],
      [
        'up.OrderPlaced',
        3,
        { orderId: 'o-3', amount: { value: 30, currency: 'GBP' } },
      ],
    ]);
    expect(out[2]).toBe(r3);
    // The stored event is left as it was: nothing is rewritten.
    expect(r1.payload).toEqual({ orderId: 'o-1', total: 10 });
    expect(out[0]).toMatchObject({ id: r1.id, position: r1.position });
  });

  it('renames a type, starting the new type at revision 1', () => {
    const [out] = upcaster.upcast([
      stored('up.CustomerSignedUp', 1, { name: 'Ada' }),
    ]);
    expect(out).toMatchObject({
      type: 'up.CustomerRegistered',
      revision: 1,
      payload: { name: 'Ada' },
    });
  });

  it('splits one event into several, in order, sharing its position', () => {
    const event = stored('up.ItemsAdded', 1, { skus: ['a', 'b', 'c'] });
    const out = upcaster.upcast([event, stored('up.Heartbeat', 1, {})]);
    expect(out.map((e) => [e.type, e.payload.sku, e.position])).toEqual([
      ['up.ItemAdded', 'a', event.position],
      ['up.ItemAdded', 'b', event.position],
      ['up.ItemAdded', 'c', event.position],
    ]);
  });

  it('drops an event', () => {
    expect(upcaster.upcast([stored('up.Heartbeat', 1, { at: 1 })])).toEqual([]);
  });

  it('refuses a revision newer than the code knows, naming type, revision and position', () => {
    const event = stored('up.OrderPlaced', 4, {});
    expect(() => upcaster.upcast([event])).toThrow(UnsupportedRevisionError);
    expect(() => upcaster.upcast([event])).toThrow(
      `Stored "up.OrderPlaced" revision 4 at position ${event.position} is newer than revision 3`,
    );
    expect(upcaster.upcast([event], { onUnknown: 'skip' })).toEqual([]);
  });

  it('refuses an unknown type, naming it, unless told to skip', () => {
    const event = stored('up.Nobody', 2, {});
    expect(() => upcaster.upcast([event])).toThrow(UnknownMessageTypeError);
    expect(() => upcaster.upcast([event])).toThrow(
      `"up.Nobody" revision 2 at position ${event.position}`,
    );
    const known = stored('up.ItemAdded', 1, { sku: 'x' });
    expect(upcaster.upcast([event, known], { onUnknown: 'skip' })).toEqual([
      known,
    ]);
  });

  it('refuses two upcasters for one type and revision', () => {
    expect(() => upcaster.add('up.OrderPlaced', 1, () => null)).toThrow(
      DuplicateUpcasterError,
    );
  });

  it('reports an upcaster that fails or goes round in circles, with the position', () => {
    const broken = new EventUpcaster()
      .add('up.Broken', 1, () => {
        throw new Error('no total');
      })
      .add('up.A', 1, () => ({ type: 'up.B', payload: {} }))
      .add('up.B', 1, () => ({ type: 'up.A', payload: {} }));
    const event = stored('up.Broken', 1, {});
    expect(() => broken.upcast([event])).toThrow(UpcastFailedError);
    expect(() => broken.upcast([event])).toThrow(
      `"up.Broken" revision 1 at position ${event.position} failed: an upcaster function threw: no total`,
    );
    expect(() => broken.upcast([stored('up.A', 1, {})])).toThrow(/cycle/);
  });
});
