import {
  decodeReply,
  HEADER,
  InvalidIdError,
  InvalidMetadataError,
  newMessageId,
  ReplyTooLargeError,
  RequestTooLargeError,
  ValidationError,
  type SendOptions,
  type UnknownFieldsPolicy,
  type WireMessage,
} from '../src/index.js';
import { waitUntil } from './wait-until.js';
import {
  Echo,
  ExportReport,
  RegisterMember,
  type WireApp,
} from './wire.fixture.js';

/** A caller and a handler app, and a way in for a raw client. */
export interface WirePair {
  readonly caller: WireApp;
  readonly handler: WireApp;
  /**
   * Sends a crafted request to the handler's subject for `type`, as any
   * client of the transport could; resolves to the reply when `reply`.
   */
  sendRaw(
    type: string,
    message: WireMessage,
    reply: boolean,
  ): Promise<WireMessage | undefined>;
  close(): Promise<void>;
}

export interface WireSuiteOptions {
  /**
   * Whether results travel through the transport, so that its size limit
   * applies (over NATS; in process only with `routing: 'remote'`).
   */
  readonly repliesTravel: boolean;
}

/** What a client of the transport could send: valid headers, and a body. */
function crafted(
  type: string,
  payload: unknown,
  headers: Record<string, string> = {},
): WireMessage {
  return {
    headers: {
      [HEADER.id]: newMessageId(),
      [HEADER.type]: type,
      [HEADER.revision]: '1',
      [HEADER.timestamp]: new Date().toISOString(),
      [HEADER.correlationId]: 'c-1',
      ...headers,
    },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

async function payloadsOf(app: WireApp, streamId: string) {
  const out: unknown[] = [];
  for await (const event of app.store.readStream(streamId)) {
    out.push(event.payload);
  }
  return out;
}

/** The code of an error reply (undefined for a result). */
function codeOf(reply: WireMessage | undefined, type: string): unknown {
  try {
    decodeReply(reply ?? { headers: {}, body: '{}' }, type);
    return undefined;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
}

const withExtras = <T extends object>(message: T): T =>
  Object.assign(message, { isAdmin: true, ownerId: 'mallory' });

/**
 * What a serving app makes of what callers send, from Chronicle callers and
 * raw clients alike: unknown fields, bad headers and ids, text PostgreSQL
 * refuses, sizes over the transport's limit, floods of garbage.
 */
export function wireHygieneSuite(
  start: (unknownFields?: UnknownFieldsPolicy) => Promise<WirePair>,
  options: WireSuiteOptions,
): void {
  let pair: WirePair;
  afterEach(() => pair.close());

  describe('fields a class does not declare', () => {
    it('are stripped before the handler runs, so they are never stored', async () => {
      pair = await start();
      const result = await pair.caller.gateway.send(
        withExtras(new RegisterMember('m-1', 'Ada')),
      );
      expect(result).toEqual({ memberId: 'm-1', name: 'Ada' });
      const reply = await pair.sendRaw(
        'wire.RegisterMember',
        crafted('wire.RegisterMember', {
          memberId: 'm-2',
          name: 'Bob',
          isAdmin: true,
        }),
        true,
      );
      expect(codeOf(reply, 'wire.RegisterMember')).toBeUndefined();
      expect(await payloadsOf(pair.handler, 'member-m-1')).toEqual([
        { memberId: 'm-1', name: 'Ada' },
      ]);
      expect(await payloadsOf(pair.handler, 'member-m-2')).toEqual([
        { memberId: 'm-2', name: 'Bob' },
      ]);
    });

    it("are refused, each named, with messages.unknownFields: 'refuse'", async () => {
      pair = await start('refuse');
      const error = await pair.caller.gateway
        .send(withExtras(new RegisterMember('m-1', 'Ada')))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).violations.map((v) => v.field)).toEqual(
        ['isAdmin', 'ownerId'],
      );
      expect(await pair.handler.storedRows()).toBe(0);
    });
  });

  describe('ids and metadata', () => {
    it('given by a caller are checked before anything is sent', async () => {
      pair = await start();
      const send = (options: object) =>
        pair.caller.gateway
          .send(new RegisterMember('m-1', 'Ada'), options as SendOptions)
          .catch((e: unknown) => e);
      expect(await send({ id: 'x\u0000' })).toBeInstanceOf(InvalidIdError);
      expect(await send({ id: 'x'.repeat(3000) })).toBeInstanceOf(
        InvalidIdError,
      );
      expect(await send({ metadata: 'abc' })).toBeInstanceOf(
        InvalidMetadataError,
      );
      expect(
        await send({ metadata: { correlationId: { $ne: null } } }),
      ).toBeInstanceOf(InvalidIdError);
      expect(await pair.handler.storedRows()).toBe(0);
    });

    it.each([
      [
        'metadata that is a JSON string',
        { [HEADER.metadata]: '"abc"' },
        'INVALID_METADATA',
      ],
      [
        'metadata that is not JSON',
        { [HEADER.metadata]: 'abc' },
        'MALFORMED_MESSAGE',
      ],
      ['a revision of abc', { [HEADER.revision]: 'abc' }, 'MALFORMED_MESSAGE'],
      ['a revision of -1', { [HEADER.revision]: '-1' }, 'MALFORMED_MESSAGE'],
      [
        'a timestamp that is no date',
        { [HEADER.timestamp]: 'soon' },
        'MALFORMED_MESSAGE',
      ],
      [
        'a correlation id of 3000 characters',
        { [HEADER.correlationId]: 'c'.repeat(3000) },
        'INVALID_ID',
      ],
      ['a message id with a NUL', { [HEADER.id]: 'm-\u0000' }, 'INVALID_ID'],
    ])(
      'sent raw with %s are refused with a typed error, nothing stored',
      async (_, headers, code) => {
        pair = await start();
        const reply = await pair.sendRaw(
          'wire.RegisterMember',
          crafted(
            'wire.RegisterMember',
            { memberId: 'm-1', name: 'Ada' },
            headers,
          ),
          true,
        );
        expect(codeOf(reply, 'wire.RegisterMember')).toBe(code);
        expect(await pair.handler.storedRows()).toBe(0);
      },
    );
  });

  it('refuses payload text PostgreSQL cannot store with a typed error, not 22P05', async () => {
    pair = await start();
    const error = await pair.caller.gateway
      .send(new RegisterMember('m-1', 'a\u0000b'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSTORABLE_TEXT' });
    expect((error as Error).message).toMatch(/NUL .* at name/);
    const reply = await pair.sendRaw(
      'wire.RegisterMember',
      crafted('wire.RegisterMember', '{"memberId":"m-2","name":"\\ud800"}'),
      true,
    );
    expect(codeOf(reply, 'wire.RegisterMember')).toBe('UNSTORABLE_TEXT');
    expect(await pair.handler.storedRows()).toBe(0);
  });

  it('counts a flood of garbage and logs a few lines, not one per message', async () => {
    pair = await start();
    const before = pair.handler.logger.lines.length;
    const started = Date.now();
    const logged = () =>
      pair.handler.logger.lines
        .slice(before)
        .filter((l) => l.level === 'warn' || l.level === 'error');
    // In rounds the serving queue holds (32 running, 256 waiting), so that
    // every message reaches decoding rather than being dropped as busy.
    for (let sent = 0; sent < 20_000;) {
      for (const end = sent + 250; sent < end; sent++) {
        await pair.sendRaw(
          'wire.RegisterMember',
          { headers: {}, body: `garbage ${sent}` },
          false,
        );
      }
      const expected = sent;
      await waitUntil(
        () => pair.handler.malformed.total === expected,
        `the handler counted ${expected} malformed messages`,
      );
    }
    expect(Object.entries(pair.handler.malformed.bySubject())).toEqual([
      [expect.stringMatching(/\.command\.wire\.RegisterMember$/), 20_000],
    ]);
    // The first in full, then at most one summary per 10 s however long the
    // flood took on this machine: a few lines, where there were 20,000.
    const intervals = Math.floor((Date.now() - started) / 10_000);
    expect(logged().length).toBeGreaterThanOrEqual(1);
    expect(logged().length).toBeLessThanOrEqual(2 + intervals);
    expect(logged()[0].text).toMatch(
      /Refused a malformed message on .*wire\.RegisterMember .*no Chronicle-Message-Id header/,
    );
    expect(await pair.handler.storedRows()).toBe(0);
  });

  if (!options.repliesTravel) return;

  describe('sizes over the transport limit', () => {
    it('a reply too large reaches the caller at once as ReplyTooLargeError, the handler having committed', async () => {
      pair = await start();
      const id = newMessageId();
      const send = () =>
        pair.caller.gateway
          .send(new ExportReport('r-1', 1_200_000), { id, timeoutMs: 120_000 })
          .catch((e: unknown) => e);
      const error = await send();
      expect(error).toBeInstanceOf(ReplyTooLargeError);
      expect(error).toMatchObject({
        code: 'REPLY_TOO_LARGE',
        messageType: 'wire.ExportReport',
        messageId: id,
        limit: 1_048_576,
      });
      expect((error as ReplyTooLargeError).size).toBeGreaterThan(1_200_000);
      expect(await payloadsOf(pair.handler, 'report-r-1')).toHaveLength(1);
      expect(
        pair.handler.logger.lines.some(
          (l) => l.level === 'error' && l.text.includes(id),
        ),
      ).toBe(true);
      // Sent again with its id: the same answer, and nothing runs twice.
      expect(await send()).toBeInstanceOf(ReplyTooLargeError);
      expect(await payloadsOf(pair.handler, 'report-r-1')).toHaveLength(1);
    });

    it('a request too large is refused before it is sent', async () => {
      pair = await start();
      const query = await pair.caller.gateway
        .query(new Echo('e'.repeat(1_200_000)))
        .catch((e: unknown) => e);
      expect(query).toBeInstanceOf(RequestTooLargeError);
      expect(query).toMatchObject({
        messageType: 'wire.Echo',
        limit: 1_048_576,
      });
      const command = await pair.caller.gateway
        .send(new RegisterMember('m-1', 'n'.repeat(1_200_000)))
        .catch((e: unknown) => e);
      expect(command).toBeInstanceOf(RequestTooLargeError);
      expect(await pair.handler.storedRows()).toBe(0);
    });
  });
}
