import { inUserOrder } from '../src/project-order.cjs';

// nest-cli.json after `nest g microclient`: Nest's sub-app sorts `projects`
// by name; the user's order comes back, the new app last.
describe('inUserOrder', () => {
  const sorted = { core: 1, library: 2, orders: 3, shop: 4, testing: 5 };

  it("keeps the user's order and appends the new project", () => {
    expect(
      Object.keys(
        inUserOrder(sorted, ['orders', 'core', 'testing', 'shop'], 'library'),
      ),
    ).toEqual(['orders', 'core', 'testing', 'shop', 'library']);
  });

  it('keeps the values', () => {
    expect(inUserOrder(sorted, ['shop'], 'library')).toEqual(sorted);
  });

  it('puts a project sub-app made on its own (the default app) before the new one', () => {
    expect(
      Object.keys(inUserOrder({ billing: 1, shop: 2 }, [], 'billing')),
    ).toEqual(['shop', 'billing']);
  });
});
