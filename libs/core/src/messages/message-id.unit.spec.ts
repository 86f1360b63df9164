import { validate, version } from 'uuid';
import { newMessageId } from './message-id.js';

describe('new message ids', () => {
  it('are UUID v7 with the time of their making in their first 48 bits', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newMessageId());
    const after = Date.now();
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(id).toBe(id.toLowerCase());
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
      const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort by the millisecond they were made in', async () => {
    const first = newMessageId();
    await new Promise((resolve) => setTimeout(resolve, 3));
    expect(newMessageId() > first).toBe(true);
  });
});
