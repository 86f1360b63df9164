import { Document } from '@chronicle/core';

/** An order as the shop would search it: by customer, status, date and text. */
@Document('orders', {
  indexes: ['customerId', 'status', 'placedAt'],
  text: ['title', 'notes'],
})
export class OrderDocument {
  orderId!: string;
  customerId!: string;
  status!: string;
  placedAt!: string;
  total!: number;
  title!: string;
  notes!: string;
}

export const CUSTOMERS = 2_000;
const STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];
const COLOURS = ['red', 'blue', 'green', 'black', 'white', 'yellow'];
const THINGS = ['shoes', 'hat', 'scarf', 'jacket', 'gloves', 'socks', 'belt'];
const NOTES = [
  'leave at the door',
  'gift wrap please',
  'call before delivery',
  'fragile',
  'deliver to the neighbour',
  '',
];
const YEAR_START = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 86_400_000;

/** The n-th order: the same for every contender, spread over a year and 2,000 customers. */
export function orderNumber(n: number): OrderDocument {
  return Object.assign(new OrderDocument(), {
    orderId: `o-${n}`,
    customerId: `c-${n % CUSTOMERS}`,
    status: STATUSES[Math.floor(n / CUSTOMERS) % STATUSES.length],
    placedAt: new Date(YEAR_START + ((n * 7_919_333) % YEAR_MS)).toISOString(),
    total: (n * 37) % 500,
    title: `${COLOURS[n % COLOURS.length]} ${THINGS[(n * 3) % THINGS.length]}`,
    notes: NOTES[(n * 5) % NOTES.length],
  });
}
