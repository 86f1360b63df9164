import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { EventStore, newMessageId, type NewEvent } from '@chronicle/core';
import { freshSchema, postgresDatabase } from '../../core/test/databases.js';
import { freshNamespace, NATS_URL } from '../../core/test/nats.js';
import { startApp, type TestApp } from '../../core/test/transport-apps.js';
import '../../core/test/shipping.fixture.js';
import { gatewayApp } from '../test/gateway.fixture.js';

// The gateway end to end: an HTTP app ("front") with the gateway, and the
// shipping handlers in another app on the same NATS and store.

const database = postgresDatabase();
let shipping: TestApp;
let front: INestApplication;
let url: string;
let schema: string;

beforeAll(async () => {
  schema = freshSchema('gw');
  const namespace = freshNamespace();
  shipping = await startApp({
    instance: 'ship-1',
    client: database.client(),
    handlers: true,
    schema,
    chronicle: { app: 'shipping', transport: { nats: NATS_URL, namespace } },
  });
  ({ app: front, url } = await gatewayApp(
    database.client(),
    schema,
    namespace,
    NATS_URL,
    { timeoutMs: 800, rateLimit: false },
  ));
});

afterAll(async () => {
  await front?.close();
  await shipping?.close();
  await database.close();
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

async function post(path: string, init: RequestInit) {
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    retryAfter: response.headers.get('retry-after'),
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
  };
}

function deposit(account: string, amount: number): NewEvent {
  const id = newMessageId();
  return {
    id,
    type: 'gw.Deposited',
    revision: 1,
    payload: { account, amount },
    metadata: { correlationId: id },
    timestamp: new Date(),
  };
}
describe('commands and queries over HTTP', () => {
  it('sends a command to its handler in another app and returns its id and result; unknown fields are dropped', async () => {
    const reply = await post(
      '/commands/ship.ShipParcel',
      json({ parcelId: 'p-1', weightKg: 2, sneaky: true }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      id: expect.any(String),
      result: { parcelId: 'p-1', handledBy: 'ship-1' },
    });
  });

  it('asks a query', async () => {
    const reply = await post('/queries/ship.CountParcels', json({}));
    expect(reply.status).toBe(200);
    expect(reply.body.result).toMatchObject({ handledBy: 'ship-1' });
  });

  it('takes the Idempotency-Key as the command id: a repeat returns the first result and ships once', async () => {
    const before = shipping.ledger!.shipped;
    const key = newMessageId();
    const first = await post(
      '/commands/ship.ShipParcel',
      json({ parcelId: 'p-2', weightKg: 1 }, { 'idempotency-key': key }),
    );
    const again = await post(
      '/commands/ship.ShipParcel',
      json({ parcelId: 'p-2', weightKg: 1 }, { 'idempotency-key': key }),
    );
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    expect(first.body.id).toBe(key);
    expect(shipping.ledger!.shipped).toBe(before + 1);
  });
});

describe('failures as RFC 9457 problems', () => {
  const problem = (status: number, code: string) => ({
    status,
    type: expect.stringContaining('application/problem+json'),
    body: expect.objectContaining({
      type: `urn:chronicle:problem:${code}`,
      status,
      code,
      detail: expect.any(String),
      title: expect.any(String),
    }),
  });

  it('400 with every failing field for a payload that breaks its rules', async () => {
    const reply = await post(
      '/commands/ship.ShipParcel',
      json({ parcelId: '', weightKg: -1 }),
    );
    expect(reply).toMatchObject(problem(400, 'VALIDATION_FAILED'));
    expect(
      (reply.body.errors as { field: string }[]).map((e) => e.field).sort(),
    ).toEqual(['parcelId', 'weightKg']);
  });

  it('400 for a body that is not JSON, 415 for another content type, 413 for 10 MB; the app serves on', async () => {
    expect(
      await post('/commands/ship.ShipParcel', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"parcelId":',
      }),
    ).toMatchObject(problem(400, 'MALFORMED_MESSAGE'));
    expect(
      await post('/commands/ship.ShipParcel', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'parcel please',
      }),
    ).toMatchObject(problem(415, 'UNSUPPORTED_MEDIA_TYPE'));
    expect(
      await post('/commands/ship.ShipParcel', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"parcelId":"${'x'.repeat(10 * 1024 * 1024)}"}`,
      }),
    ).toMatchObject(problem(413, 'REQUEST_TOO_LARGE'));
    expect((await post('/queries/ship.CountParcels', json({}))).status).toBe(
      200,
    );
  });

  it('401 without a user and 403 without the role; the role passes', async () => {
    const vault = (user?: object) =>
      post(
        '/commands/gw.OpenVault',
        json(
          { vault: 'v-1' },
          user ? { 'x-test-user': JSON.stringify(user) } : {},
        ),
      );
    expect(await vault()).toMatchObject(problem(401, 'UNAUTHENTICATED'));
    const forbidden = await vault({ id: 'bob', roles: ['clerk'] });
    expect(forbidden).toMatchObject(problem(403, 'FORBIDDEN'));
    expect(forbidden.body.detail).toContain('admin');
    expect(await vault({ id: 'ann', roles: ['admin'] })).toMatchObject({
      status: 200,
      body: { result: { openedBy: 'the vault handler' } },
    });
  });

  it('404 for a type the app does not know, or sent as the wrong kind', async () => {
    expect(await post('/commands/ship.NoSuchThing', json({}))).toMatchObject(
      problem(404, 'UNKNOWN_MESSAGE_TYPE'),
    );
    const wrongKind = await post('/commands/ship.CountParcels', json({}));
    expect(wrongKind).toMatchObject(problem(404, 'UNKNOWN_MESSAGE_TYPE'));
    expect(wrongKind.body.detail).toContain('/queries/ship.CountParcels');
  });

  it('409 with the error type and fields for a domain rule', async () => {
    const reply = await post(
      '/commands/ship.RefuseParcel',
      json({ reason: 'too fragile' }),
    );
    expect(reply).toMatchObject(problem(409, 'PARCEL_REFUSED'));
    expect(reply.body).toMatchObject({
      errorType: 'ship.ParcelRefused',
      fields: { reason: 'too fragile' },
    });
  });

  it('503 with Retry-After when no app handles the type, 504 when the handler is too slow', async () => {
    const unserved = await post('/commands/ship.Unserved', json({}));
    expect(unserved).toMatchObject(problem(503, 'NO_HANDLER'));
    expect(unserved.retryAfter).toBe('1');
    expect(
      await post(
        '/commands/ship.SlowParcel',
        json({ parcelId: 'p-3', ms: 3_000 }),
      ),
    ).toMatchObject(problem(504, 'TIMEOUT'));
  });
});

describe('the OpenAPI document and its page', () => {
  it('describes every command and query with the schema of its class-validator rules', async () => {
    const response = await fetch(`${url}/openapi.json`);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, { post?: { requestBody: unknown } }>;
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/commands/ship.ShipParcel',
        '/api/queries/ship.CountParcels',
        '/api/commands/gw.OpenVault',
        '/api/events',
      ]),
    );
    expect(document.components.schemas['ship.ShipParcel']).toMatchObject({
      properties: {
        parcelId: { type: 'string', minLength: 1 },
        weightKg: { minimum: 0 },
      },
      required: expect.arrayContaining(['parcelId', 'weightKg']),
    });
  });

  it('serves the Swagger UI page and its assets from the package, no CDN', async () => {
    const page = await (await fetch(`${url}/docs`)).text();
    expect(page).toContain('/api/docs/swagger-ui-bundle.js');
    expect(page).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await fetch(`${url}/docs/..%2Fpackage.json`)).status).toBe(404);
  });
});

describe('the event feed', () => {
  /** Reads `count` events off a feed, then stops it. */
  async function readFeed(
    query: string,
    count: number,
    headers: Record<string, string> = {},
    /** Runs once the first event arrived (the feed is then live). */
    afterFirst?: () => Promise<void>,
  ): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
    const controller = new AbortController();
    const response = await fetch(`${url}/events?${query}`, {
      headers,
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const frames: {
      id: string;
      event: string;
      data: Record<string, unknown>;
    }[] = [];
    let buffer = '';
    let after: Promise<void> | undefined;
    try {
      while (frames.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while (frames.length < count && (end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(': '))
              .map((l) => [
                l.slice(0, l.indexOf(': ')),
                l.slice(l.indexOf(': ') + 2),
              ]),
          );
          if (fields.data) {
            frames.push({
              id: fields.id,
              event: fields.event,
              data: JSON.parse(fields.data) as Record<string, unknown>,
            });
            if (frames.length === 1) after = afterFirst?.();
          }
        }
      }
    } finally {
      controller.abort();
      await after;
    }
    return frames;
  }

  it('streams committed events from the beginning, filtered by type, resumes after Last-Event-ID, and goes on live', async () => {
    const store = front.get(EventStore);
    await store.append('gw.Account-a', [deposit('a', 1), deposit('a', 2)]);
    await store.append('gw.Account-b', [deposit('b', 3)]);
    const first = await readFeed('after=beginning&types=gw.Deposited', 2);
    expect(first.map((f) => f.data.payload)).toEqual([
      { account: 'a', amount: 1 },
      { account: 'a', amount: 2 },
    ]);
    expect(first[0]).toMatchObject({
      event: 'gw.Deposited',
      data: { streamId: 'gw.Account-a', streamVersion: 1 },
    });
    // Reconnecting with the last id seen: the next event, then a live one.
    const resumed = await readFeed(
      'after=beginning&types=gw.Deposited',
      2,
      { 'last-event-id': first[1].id },
      async () => {
        await store.append('gw.Account-c', [deposit('c', 4)]);
      },
    );
    expect(resumed.map((f) => f.data.payload)).toEqual([
      { account: 'b', amount: 3 },
      { account: 'c', amount: 4 },
    ]);
  });

  it('refuses a place in the log it cannot read, as a problem', async () => {
    const response = await fetch(`${url}/events?after=yesterday`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain(
      'application/problem+json',
    );
  });
});

describe('the rate limit', () => {
  it('answers 429 past the limit per client, with Retry-After', async () => {
    const { app, url: limited } = await gatewayApp(
      database.client(),
      schema,
      freshNamespace(),
      NATS_URL,
      { rateLimit: { limit: 2, ttlMs: 60_000 } },
    );
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${limited}/commands/gw.OpenVault`, {
          ...json(
            { vault: 'v' },
            { 'x-test-user': '{"id":"ann","roles":["admin"]}' },
          ),
        });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(response.headers.get('content-type')).toContain(
            'application/problem+json',
          );
          expect(response.headers.get('retry-after')).not.toBeNull();
        }
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('a client in another language', () => {
  it('Python, standard library only: sends, handles a validation error, queries and follows the feed', async () => {
    const store = front.get(EventStore);
    await store.append('gw.Account-py', [deposit('py', 5), deposit('py', 6)]);
    const folder = fileURLToPath(
      new URL('../clients/python/', import.meta.url),
    );
    const { stdout } = await promisify(execFile)(
      'python3',
      ['example.py', url, '2'],
      { cwd: folder, timeout: 60_000 },
    );
    const steps = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { step: string; value: unknown })
        .map(({ step, value }) => [step, value]),
    );
    expect(steps.sent).toEqual({ parcelId: 'py-1', handledBy: 'ship-1' });
    expect(steps.refused).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      fields: ['parcelId', 'weightKg'],
    });
    expect(steps.queried).toMatchObject({ handledBy: 'ship-1' });
    expect(steps.events).toHaveLength(2);
  });
});
