import { randomBytes, randomUUID } from 'node:crypto';
import {
  isSealed,
  keyIdOf,
  open,
  seal,
  sealingKey,
  type SealedValue,
} from './sealed-value.js';

const KEY = Buffer.from(
  '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  'hex',
);
const KEY_ID = '7d3e7f0e-2b6c-4b8e-9a51-0c6f4f2a9b13';

/** Sealed by the first implementation (the format at rest must keep opening). */
const EARLIER = {
  object: {
    $enc: 'v1.7d3e7f0e-2b6c-4b8e-9a51-0c6f4f2a9b13.GorTWaQcRmsUJT8GNgWAe6z6_tMLgmNYG_s4HkQwmj5WLgO0m0jQxMm2zj1L4_adIOzye-yRBPK7rsGGp_d3QJT9VNiGtsnk',
  },
  text: {
    $enc: 'v1.7d3e7f0e-2b6c-4b8e-9a51-0c6f4f2a9b13.9Nsi48NNg7NzhQhq2vNvwX3VgnkYp5Tfomn2oA9jfEVTZum8qtqne1Nq',
  },
};

/** The IV of a sealed value: the first 12 bytes of its body. */
function ivOf(sealed: SealedValue): string {
  const body = Buffer.from(sealed.$enc.split('.')[2], 'base64url');
  return body.subarray(0, 12).toString('hex');
}

describe('Sealed values', () => {
  it('opens values sealed by earlier versions (format v1)', () => {
    const key = sealingKey(KEY_ID, KEY);
    expect(keyIdOf(EARLIER.object)).toBe(KEY_ID);
    expect(open(EARLIER.object, key)).toEqual({
      street: 'Kastanienallee 12',
      zip: '10435',
    });
    expect(open(EARLIER.text, key)).toBe('Ada Lovelace');
  });

  it('still seals in format v1, readable as before', () => {
    const key = sealingKey(KEY_ID, KEY);
    const sealed = seal({ n: 1, s: 'ü' }, key);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed.$enc.startsWith(`v1.${KEY_ID}.`)).toBe(true);
    // iv (12) + JSON text (14 bytes) + tag (16)
    expect(Buffer.from(sealed.$enc.split('.')[2], 'base64url')).toHaveLength(
      12 + Buffer.byteLength(JSON.stringify({ n: 1, s: 'ü' })) + 16,
    );
    expect(open(sealed, key)).toEqual({ n: 1, s: 'ü' });
  });

  it('draws a fresh IV for every value, across refills of its random pool', () => {
    const key = sealingKey(randomUUID(), randomBytes(32));
    const sealed = Array.from({ length: 3000 }, (_, i) => seal(i, key));
    expect(new Set(sealed.map(ivOf)).size).toBe(3000);
    expect(new Set(sealed.map((s) => s.$enc)).size).toBe(3000);
    sealed.forEach((s, i) => expect(open(s, key)).toBe(i));
  });

  it('refuses a value under another key id, a damaged one, or with another key', () => {
    const key = sealingKey(KEY_ID, KEY);
    const otherId = randomUUID();
    const moved = { $enc: EARLIER.text.$enc.replace(KEY_ID, otherId) };
    // Right bytes, but the key id is authenticated data.
    expect(() => open(moved, sealingKey(otherId, KEY))).toThrow();
    // A key for another id is not used on it.
    expect(() => open(EARLIER.text, sealingKey(otherId, KEY))).toThrow(
      /another key/,
    );
    const text = EARLIER.text.$enc;
    const flipped = `${text.slice(0, -2)}${text.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(() => open({ $enc: flipped }, key)).toThrow();
    expect(() =>
      open(EARLIER.text, sealingKey(KEY_ID, randomBytes(32))),
    ).toThrow();
    expect(() => open({ $enc: `v1.${KEY_ID}.AAAA` }, key)).toThrow(/too short/);
    expect(() => open({ $enc: `v2.${KEY_ID}.AAAA` }, key)).toThrow(
      /unknown format/,
    );
  });
});
