import { segmentOfKey } from './sequence-key.js';

describe('segmentOfKey', () => {
  // Pinned: a key's segment must not move between releases or processes,
  // or its events could overtake each other after an upgrade.
  it('puts a key in the same segment in every release', () => {
    expect(segmentOfKey('order-1', 4)).toBe(1);
    expect(segmentOfKey('order-2', 4)).toBe(2);
    expect(segmentOfKey('customer-42', 4)).toBe(3);
    expect(segmentOfKey('customer-42', 7)).toBe(1);
  });

  it('uses every segment and no other', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(segmentOfKey(`order-${i}`, 5));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(segmentOfKey('anything', 1)).toBe(0);
  });
});
