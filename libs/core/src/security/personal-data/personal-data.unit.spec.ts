import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { EventType, newMessageId } from '../../messages/index.js';
import type { SqlClient, StreamAppend } from '../../store/index.js';
import { KeyStore, type StoredDataKey } from './key-store.js';
import { MasterKey } from './master-key.js';
import {
  checkPersonalDataDefinitions,
  PersonalDataCipher,
} from './personal-data-cipher.js';
import { DataSubject, PersonalData } from './personal-data.decorators.js';
import {
  MasterKeyError,
  MissingDataSubjectError,
  PersonalDataDefinitionError,
} from './personal-data.errors.js';

/** Keys in memory: enough to drive the cipher without a database. */
class MemoryKeys extends KeyStore {
  readonly rows = new Map<string, StoredDataKey>();
  async findBySubjects(ids: readonly string[]) {
    return ids.flatMap((id) => this.rows.get(id) ?? []);
  }
  async findByIds(ids: readonly string[]) {
    return [...this.rows.values()].filter((k) => ids.includes(k.keyId));
  }
  async create(key: StoredDataKey) {
    if (!this.rows.has(key.subjectId)) this.rows.set(key.subjectId, key);
    return this.rows.get(key.subjectId)!;
  }
  async forget(subjectId: string) {
    const key = this.rows.get(subjectId);
    this.rows.delete(subjectId);
    return key?.keyId;
  }
}

const client = { driver: 'pg', inTransaction: false } as SqlClient;

@EventType('pdu.Noted')
export class Noted {
  @DataSubject() readonly personId!: string | number;
  @PersonalData() readonly note!: string;
}

function appendOf(payload: Record<string, unknown>): StreamAppend[] {
  return [
    {
      streamId: 's-1',
      expectedVersion: 'any',
      events: [
        {
          id: newMessageId(),
          type: 'pdu.Noted',
          revision: 1,
          payload,
          metadata: { correlationId: newMessageId() },
          timestamp: new Date(),
        },
      ],
    },
  ];
}

describe('Personal data definitions and sealing', () => {
  it('refuses personal fields without a subject, naming the class and the fields', async () => {
    @EventType('pdu.Orphan')
    class Orphan {
      @PersonalData() readonly address!: string;
    }
    expect(() => checkPersonalDataDefinitions()).toThrow(
      expect.objectContaining({
        code: 'PERSONAL_DATA_DEFINITION',
        className: Orphan.name,
      }),
    );
    expect(() => checkPersonalDataDefinitions()).toThrow(
      /Orphan marks 'address' @PersonalData\(\) but no field @DataSubject\(\)/,
    );
    const cipher = new PersonalDataCipher(new MemoryKeys(), MasterKey.from(''));
    const orphan: StreamAppend[] = appendOf({});
    expect(() =>
      cipher.seal(
        [
          {
            ...orphan[0],
            events: [
              {
                ...orphan[0].events[0],
                type: 'pdu.Orphan',
                payload: { address: 'x' },
              },
            ],
          },
        ],
        client,
      ),
    ).toThrow(PersonalDataDefinitionError);
  });

  it('refuses an event with personal data and an empty subject', async () => {
    const cipher = new PersonalDataCipher(new MemoryKeys(), MasterKey.from(''));
    expect(() =>
      cipher.seal(appendOf({ personId: '', note: 'hi' }), client),
    ).toThrow(MissingDataSubjectError);
    // Nothing personal to seal: no subject needed.
    const [append] = (
      await cipher.seal(appendOf({ personId: '', note: null }), client)
    ).appends;
    expect(append.events[0].payload).toEqual({ personId: '', note: null });
  });

  it('seals with one key per subject (numbers too) and opens with it; costs no lookup once cached', async () => {
    const keys = new MemoryKeys();
    const cipher = new PersonalDataCipher(keys, MasterKey.from(''));
    const sealed = await cipher.seal(
      appendOf({ personId: 7, note: 'secret note' }),
      client,
    );
    const payload = { ...sealed.appends[0].events[0].payload };
    expect(JSON.stringify(payload)).not.toContain('secret note');
    expect([...keys.rows.keys()]).toEqual(['7']);

    const lookups = jest.spyOn(keys, 'findBySubjects');
    await cipher.seal(appendOf({ personId: 7, note: 'again' }), client);
    expect(lookups).not.toHaveBeenCalled();

    const rows = [{ type: 'pdu.Noted', payload }];
    await cipher.open(rows, client, () => 'the event');
    expect(rows[0].payload).toEqual({ personId: 7, note: 'secret note' });
    expect(
      cipher.open(
        [{ type: 'pdu.Noted', payload: { note: 'plain' } }],
        client,
        () => '',
      ),
    ).toBeUndefined();
  });

  it('looks up the keys of concurrent appends together, and retries after a failed lookup', async () => {
    const keys = new MemoryKeys();
    const cipher = new PersonalDataCipher(keys, MasterKey.from(''));
    const lookups = jest.spyOn(keys, 'findBySubjects');
    const subjects = Array.from({ length: 20 }, (_, i) => `p${i % 10}`);
    const sealed = await Promise.all(
      subjects.map((id) =>
        cipher.seal(appendOf({ personId: id, note: id }), client),
      ),
    );
    // The first lookup, then one for all that came while it ran.
    expect(lookups).toHaveBeenCalledTimes(2);
    expect(keys.rows.size).toBe(10);
    const rows = sealed.map((s) => ({
      type: 'pdu.Noted',
      payload: { ...s.appends[0].events[0].payload },
    }));
    await new PersonalDataCipher(keys, MasterKey.from('')).open(
      rows,
      client,
      () => 'the event',
    );
    expect(rows.map((r) => r.payload.note)).toEqual(subjects);

    lookups.mockRejectedValueOnce(new Error('connection lost'));
    await expect(
      cipher.seal(appendOf({ personId: 'q1', note: 'x' }), client),
    ).rejects.toThrow('connection lost');
    await cipher.seal(appendOf({ personId: 'q1', note: 'x' }), client);
    expect(keys.rows.has('q1')).toBe(true);
  });

  it('does not cache a key read while its subject was being forgotten', async () => {
    const keys = new MemoryKeys();
    const writer = new PersonalDataCipher(keys, MasterKey.from(''));
    const sealed = await writer.seal(
      appendOf({ personId: 7, note: 'secret note' }),
      client,
    );
    const stored = sealed.appends[0].events[0].payload;
    const reader = new PersonalDataCipher(keys, MasterKey.from(''));
    // The reader's lookup reads the key, then the subject is forgotten
    // (key deleted, the reader told) before the lookup returns.
    const findByIds = keys.findByIds.bind(keys);
    let forgotten!: () => void;
    const forgetting = new Promise<void>((resolve) => (forgotten = resolve));
    jest.spyOn(keys, 'findByIds').mockImplementationOnce(async (ids) => {
      const found = await findByIds(ids);
      await forgetting;
      return found;
    });
    const first = [{ type: 'pdu.Noted', payload: { ...stored } }];
    const reading = reader.open(first, client, () => 'the event');
    await keys.forget('7');
    reader.evict('7');
    forgotten();
    await reading;
    const again = [{ type: 'pdu.Noted', payload: { ...stored } }];
    await reader.open(again, client, () => 'the event');
    expect(again[0].payload.note).toBeNull();
  });

  it('accepts only a 32-byte base64 master key', () => {
    expect(MasterKey.from(undefined).configured).toBe(false);
    expect(MasterKey.from(randomBytes(32).toString('base64')).configured).toBe(
      true,
    );
    expect(() => MasterKey.from(randomBytes(16).toString('base64'))).toThrow(
      MasterKeyError,
    );
    expect(() => MasterKey.from('not base64!')).toThrow(/CHRONICLE_MASTER_KEY/);
  });
});
