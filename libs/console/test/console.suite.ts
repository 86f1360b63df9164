import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import {
  ChronicleModule,
  CommandBus,
  MessageLog,
  Scheduler,
} from '@chronicle/core';
import { ChronicleConsoleModule, type ConsoleRequest } from '../src/index.js';
import { freshSchema, type TestDatabase } from '../../core/test/databases.js';
import { FAST_TRACKING } from '../../core/test/tracking.fixture.js';
import { waitUntil } from '../../core/test/wait-until.js';
import { NotePrinter, NotesModule, WriteNote } from './notes.fixture.js';

/** Reads a server-sent events stream until `done` holds for the frames read so far. */
async function readFrames(
  body: ReadableStream<Uint8Array>,
  done: (frames: { id?: string; data: string }[]) => boolean,
): Promise<{ id?: string; data: string }[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const frames: { id?: string; data: string }[] = [];
  while (!done(frames)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const lines = text.slice(0, end).split('\n');
      text = text.slice(end + 2);
      const data = lines.find((l) => l.startsWith('data: '));
      const id = lines.find((l) => l.startsWith('id: '));
      if (data)
        frames.push({ data: data.slice(6), ...(id && { id: id.slice(4) }) });
    }
  }
  await reader.cancel();
  return frames;
}

/** The demo's way in: `x-user` names the user, `ada` is the admin. */
function headerLogin(request: ConsoleRequest): boolean {
  const name = request.headers['x-user'];
  if (typeof name !== 'string') return false;
  request.user = { id: name, roles: name === 'ada' ? ['admin'] : ['reader'] };
  return true;
}

const SCRIPT = '<script>alert(1)</script>';

export function consoleSuite(database: () => TestDatabase): void {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ChronicleModule.forRoot({
          app: 'notes',
          database: {
            client: database().client(),
            schema: freshSchema('console'),
          },
          tracking: { ...FAST_TRACKING, instanceId: 'notes-1' },
        }),
        NotesModule,
        ChronicleConsoleModule.forRoot({
          path: '/ops',
          guard: headerLogin,
          lagSampleMs: 1000,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/ops`;
    const commands = app.get(CommandBus);
    await commands.execute(new WriteNote('n-1', SCRIPT));
    await commands.execute(new WriteNote('n-1', 'second thoughts'));
  });

  afterAll(() => app?.close());

  const get = async (path: string, user?: string) => {
    const response = await fetch(`${base}${path}`, {
      headers: user ? { 'x-user': user } : {},
    });
    return { status: response.status, body: await response.text() };
  };
  const post = (path: string, user: string, form: Record<string, string>) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'x-user': user,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
    });
  const csrfOf = (body: string) =>
    /name="csrf" value="([^"]+)"/.exec(body)?.[1];

  it('shows nothing to a request the guard refuses', async () => {
    expect((await get('/messages')).status).toBe(403);
  });

  it('lists the message log and renders a payload holding markup as text', async () => {
    const page = await get('/messages?type=notes.WriteNote', 'grace');
    expect(page.status).toBe(200);
    expect(page.body).toContain('notes.WriteNote');
    const [id] = (
      await app.get(MessageLog).search({ type: 'notes.WriteNote' })
    ).rows
      .map((r) => r.id)
      .slice(-1);
    const detail = await get(`/messages/${id}`, 'grace');
    expect(detail.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail.body).not.toContain(SCRIPT);
    // The conversation as a picture: the command and the event it appended.
    expect(detail.body).toMatch(
      /<svg[^>]*class="trace"[\s\S]*notes\.NoteWritten/,
    );
  });

  it('says which search field it cannot use', async () => {
    const page = await get('/messages?since=yesterday-ish', 'grace');
    expect(page.body).toContain('since: &quot;yesterday-ish&quot; is neither');
  });

  it('shows an aggregate at a version and what changed since another', async () => {
    const page = await get('/aggregates?stream=notes.Note-n-1&at=1', 'grace');
    expect(page.body).toContain('State at version 1');
    expect(page.body).toMatch(/&quot;edits&quot;: 0/);
    const diff = await get(
      '/aggregates?stream=notes.Note-n-1&at=2&compare=1',
      'grace',
    );
    expect(diff.body).toContain('From version 1 to 2');
    expect(diff.body).toMatch(/<code>text<\/code> <em>changed<\/em>/);
    expect(diff.body).toContain('second thoughts');
  });

  it('gives readers no buttons and refuses their crafted actions', async () => {
    await app
      .get(Scheduler)
      .schedule(
        new WriteNote('n-9', 'later'),
        { delay: '1h' },
        { id: 'later-note' },
      );
    const page = await get('/schedules', 'grace');
    expect(page.body).toContain('later-note');
    expect(page.body).not.toMatch(/<form\s+class="action"/);
    const refused = await post('/actions/cancel-schedule', 'grace', {
      id: 'later-note',
      csrf: csrfOf(page.body) ?? 'x',
    });
    expect(refused.status).toBe(403);
    expect(await app.get(Scheduler).get('later-note')).toBeDefined();
  });

  it("refuses an admin action without the admin's token", async () => {
    const response = await post('/actions/cancel-schedule', 'ada', {
      id: 'later-note',
      csrf: 'forged',
    });
    expect(response.status).toBe(403);
    expect(await app.get(Scheduler).get('later-note')).toBeDefined();
  });

  it('cancels a schedule as a command in the log, naming the admin', async () => {
    const page = await get('/schedules', 'ada');
    expect(page.body).toMatch(/<form\s+class="action"/);
    const response = await post('/actions/cancel-schedule', 'ada', {
      id: 'later-note',
      csrf: csrfOf(page.body)!,
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(
      /^\/ops\/schedules\?notice=/,
    );
    expect(await app.get(Scheduler).get('later-note')).toBeUndefined();
    const { rows } = await app
      .get(MessageLog)
      .search({ type: 'chronicle.console.CancelSchedule' });
    expect(rows).toEqual([
      expect.objectContaining({
        outcome: 'ok',
        payload: { id: 'later-note' },
        metadata: expect.objectContaining({
          user: { id: 'ada', roles: ['admin'] },
        }),
      }),
    ]);
  });

  it('shows the notice an action redirects with, and no notice a link made elsewhere carries', async () => {
    const forged = await get(
      '/schedules?notice=Your+session+expired%3A+call+us',
      'ada',
    );
    expect(forged.body).not.toContain('Your session expired');
    const page = await get('/schedules', 'ada');
    const response = await post('/actions/cancel-schedule', 'ada', {
      id: 'no-such-schedule',
      csrf: csrfOf(page.body)!,
    });
    const after = await get(
      response.headers.get('location')!.slice('/ops'.length),
      'ada',
    );
    expect(after.body).toMatch(
      /class="notice"[^>]*>\s*Schedule no-such-schedule cancelled\./,
    );
  });

  it('retries a parked stream from the consumers page, and it is handled', async () => {
    const printer = app.get(NotePrinter);
    await waitUntil(
      async () =>
        (await get('/consumers', 'ada')).body.includes(
          'the printer is out of paper',
        ),
      'the note parked',
    );
    const page = await get('/consumers', 'ada');
    const response = await post('/actions/retry', 'ada', {
      consumer: 'note-printer',
      stream: 'notes.Note-n-1',
      csrf: csrfOf(page.body)!,
    });
    expect(response.status).toBe(303);
    expect(
      decodeURIComponent(response.headers.get('location')!.replace(/\+/g, ' ')),
    ).toContain('notes.Note-n-1: 1 event handled, flowing again.');
    expect(printer.printed).toEqual([SCRIPT]);
    expect((await get('/consumers', 'ada')).body).toContain('0 parked streams');
    const { rows } = await app
      .get(MessageLog)
      .search({ type: 'chronicle.console.RetryDeadLetters' });
    expect(rows[0]).toMatchObject({
      outcome: 'ok',
      metadata: expect.objectContaining({
        user: { id: 'ada', roles: ['admin'] },
      }),
    });
  });

  it('tails events as they commit, over its own feed behind the guard', async () => {
    expect((await get('/tail')).status).toBe(403);
    expect((await get('/tail/feed')).status).toBe(403);
    const page = await get('/tail?types=notes.NoteWritten', 'grace');
    expect(page.status).toBe(200);
    const feed = /data-feed="([^"]+)"/
      .exec(page.body)![1]
      .replace(/&amp;/g, '&');
    expect(feed).toMatch(
      /^\/ops\/tail\/feed\?types=notes\.NoteWritten&after=\d+-\d+$/,
    );
    // Opened before the note is written: the page's place in the log, not the
    // moment the feed connects, is where the tail starts.
    const response = await fetch(`${base}${feed.slice('/ops'.length)}`, {
      headers: { 'x-user': 'grace' },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await app.get(CommandBus).execute(new WriteNote('n-2', SCRIPT));
    await app
      .get(CommandBus)
      .execute(new WriteNote('n-2', 'an edit: not a NoteWritten'));
    await app.get(CommandBus).execute(new WriteNote('n-3', 'third'));
    const frames = await readFrames(response.body!, (f) => f.length >= 2);
    const rows = frames.map(
      (f) => JSON.parse(f.data) as Record<string, unknown>,
    );
    expect(rows).toEqual([
      expect.objectContaining({
        type: 'notes.NoteWritten',
        streamId: 'notes.Note-n-2',
        streamVersion: 1,
        // Data for the script to insert as text, never markup.
        preview: JSON.stringify({ text: SCRIPT }),
      }),
      expect.objectContaining({ streamId: 'notes.Note-n-3' }),
    ]);
    expect(frames[0].id).toMatch(/^\d+-\d+$/);
  });

  it('refuses a tail filter that is not a type name, saying why', async () => {
    const tooLong = `%3Cb%3E${'x'.repeat(400)}`;
    const page = await get(`/tail?types=notes.NoteWritten,${tooLong}`, 'grace');
    expect(page.body).toMatch(/class="error" role="alert">[^<]*event type/);
    expect(page.body).toContain('value="notes.NoteWritten,&lt;b&gt;xxx');
    expect(page.body).not.toContain('<b>');
    expect(page.body).not.toContain('data-feed');
    const feed = await get('/tail/feed?after=yesterday', 'grace');
    expect(feed.status).toBe(400);
    expect(feed.body).toContain('is not a place in the log');
  });

  it('draws each consumer’s lag over the last hour from this process’s samples', async () => {
    const page = await get('/consumers', 'grace');
    expect(page.body).toMatch(/sampled every 1s\s+by this console\s+process/);
    for (const consumer of ['note-printer', 'process:note-review']) {
      expect(page.body).toMatch(
        new RegExp(
          `<svg[^>]*class="lag-chart"[^>]*data-consumer="${consumer}"[\\s\\S]*?<polyline\\s+class="lag-events"\\s+points="[\\d., ]+"`,
        ),
      );
    }
  });

  it('lists a process manager’s deadline with its process, gives it no Cancel button, and refuses a crafted cancel', async () => {
    const id = 'process:note-review:all-notes:review';
    await waitUntil(
      async () => (await app.get(Scheduler).get(id)) !== undefined,
      'the review deadline scheduled',
    );
    const page = await get('/schedules', 'ada');
    const row = new RegExp(
      `<tr[^>]*>\\s*<td><code>${id}</code>[\\s\\S]*?</tr>`,
    ).exec(page.body)![0];
    expect(row).toMatch(/note-review\s*<code>all-notes<\/code>/);
    expect(row).not.toContain('<form');
    expect(row).toContain('cancelled by its process');
    const response = await post('/actions/cancel-schedule', 'ada', {
      id,
      csrf: csrfOf(page.body)!,
    });
    expect(response.status).toBe(303);
    const after = await get(
      response.headers.get('location')!.slice('/ops'.length),
      'ada',
    );
    expect(after.body).toMatch(
      /class="notice"[^>]*>\s*Refused: Schedule process:note-review:all-notes:review belongs to process note-review \(key all-notes\)/,
    );
    expect(await app.get(Scheduler).get(id)).toBeDefined();
  });
}
