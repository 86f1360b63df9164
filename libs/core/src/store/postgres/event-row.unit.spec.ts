import {
  bigintAt,
  EventDecoder,
  integerAt,
  type EventRow,
} from './event-row.js';

/** What the decoder must give: every field cut out and parsed afresh. */
function plainDecode(row: EventRow, streamId: string) {
  const [position, version, revision, epoch, transaction, id] =
    row.head.split(',');
  return {
    id,
    type: row.type,
    revision: Number(revision),
    payload: row.payload,
    metadata: JSON.parse(row.metadata) as unknown,
    timestamp: new Date(Number(epoch)),
    streamId,
    streamVersion: Number(version),
    position: BigInt(position),
    transactionId: BigInt(transaction),
  };
}

const ids = [
  '0193a0b1-0000-7000-8000-00000000000a',
  '0193a0b1-0000-7000-8000-00000000000b',
];

function row(
  n: number,
  transaction: string,
  epoch: string,
  metadata: string,
): EventRow {
  return {
    head: `${1000 + n},${n},1,${epoch},${transaction},${ids[n % 2]}`,
    type: 't.E',
    payload: { n },
    metadata,
  };
}

describe('EventDecoder (rows to stored events)', () => {
  // Transaction ids, times and metadata that repeat, change, and come back;
  // texts of the same length that differ, and ones that are prefixes of others.
  const rows = [
    row(1, '900', '1796459267363', '{"a": 1}'),
    row(2, '900', '1796459267363', '{"a": 1}'),
    row(3, '901', '1796459267364', '{"a": 1}'),
    row(4, '9011', '17964592673640', '{"a": 2}'),
    row(5, '901', '1796459267364', '{"a": 2}'),
    row(6, '900', '-1001', '{"a": 1}'),
    row(7, '18446744073709551615', '0', '{"a": 1}'),
  ];

  it('gives what parsing every field afresh gives, whatever repeats', () => {
    const decoder = new EventDecoder();
    for (const r of rows) {
      expect(decoder.decode(r, 's')).toEqual(plainDecode(r, 's'));
    }
  });

  it('hands each event a Date of its own, and equal metadata as one frozen object', () => {
    const decoder = new EventDecoder();
    const [one, two] = rows.slice(0, 2).map((r) => decoder.decode(r, 's'));
    expect(one.timestamp).not.toBe(two.timestamp);
    one.timestamp.setTime(0);
    expect(two.timestamp.getTime()).toBe(1796459267363);
    expect(one.metadata).toBe(two.metadata);
    expect(Object.isFrozen(one.metadata)).toBe(true);
  });

  it('reads replay heads of three and four fields', () => {
    const decoder = new EventDecoder();
    const base = { type: 't.E', payload: {}, metadata: '' };
    expect(decoder.decodeForReplay({ ...base, head: '12,3,2' }, 's')).toEqual({
      type: 't.E',
      payload: {},
      revision: 2,
      streamVersion: 3,
      position: 12n,
      timestamp: undefined,
    });
    expect(
      decoder.decodeForReplay({ ...base, head: '12,3,2,-5' }, 's').timestamp,
    ).toEqual(new Date(-5));
  });
});

describe('integerAt and bigintAt (numbers read in place)', () => {
  it.each([
    '0',
    '7',
    '123456789012345',
    '1234567890123456',
    '9007199254740993',
    '-42',
    '',
  ])('read %p as Number() and BigInt() do', (text) => {
    const head = `x,${text},y`;
    const to = 2 + text.length;
    expect(integerAt(head, 2, to)).toBe(Number(text));
    expect(bigintAt(head, 2, to)).toBe(BigInt(text));
  });
});
