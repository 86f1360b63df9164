import { plural, singular } from '../src/nouns.cjs';

// The names generated code gets from an app's or aggregate's name: the
// repository field of a handler (`this.libraries`), the aggregate of an app
// (`orders` holds `Order`).
describe('plural', () => {
  it.each([
    ['order', 'orders'],
    ['library', 'libraries'],
    ['category', 'categories'],
    ['day', 'days'],
    ['address', 'addresses'],
    ['box', 'boxes'],
    ['match', 'matches'],
    ['dish', 'dishes'],
    ['status', 'statuses'],
    ['bus', 'buses'],
    ['cache', 'caches'],
    ['person', 'people'],
    ['child', 'children'],
    ['inventory', 'inventory'],
    ['order-line', 'order-lines'],
    ['stock-category', 'stock-categories'],
  ])('of %s is %s', (one, many) => {
    expect(plural(one)).toBe(many);
  });
});

describe('singular', () => {
  it.each([
    ['orders', 'order'],
    ['libraries', 'library'],
    ['categories', 'category'],
    ['days', 'day'],
    ['addresses', 'address'],
    ['boxes', 'box'],
    ['matches', 'match'],
    ['statuses', 'status'],
    ['caches', 'cache'],
    ['houses', 'house'],
    ['people', 'person'],
    ['order-lines', 'order-line'],
  ])('of %s is %s', (many, one) => {
    expect(singular(many)).toBe(one);
  });

  it.each(['library', 'status', 'address', 'analysis', 'billing', 'person'])(
    'leaves %s, already singular, as it is',
    (one) => {
      expect(singular(one)).toBe(one);
    },
  );
});
