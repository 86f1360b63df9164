import { connect } from '@nats-io/transport-node';
import type { INestApplicationContext } from '@nestjs/common';
import { EventStore } from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import { eventually, freshNamespace, NATS_URL } from '../../test/nats.js';
import { noted } from '../../test/tracking.fixture.js';
import { segmentsHere, wakeApp, wakes } from '../../test/wake.fixture.js';

// Two apps on one namespace, each with its own schema: the reader is woken
// only by the wake-ups NATS relays from the writer (or from an older app).

const database = postgresDatabase();
afterAll(() => database.close());

describe('Wake-ups by event type over NATS', () => {
  const apps: INestApplicationContext[] = [];
  const schemas: string[] = [];

  async function start(namespace: string): Promise<INestApplicationContext> {
    const schema = freshSchema('wkn');
    schemas.push(schema);
    const app = await wakeApp(database.client(), schema, {
      nats: { servers: NATS_URL },
      namespace,
    });
    apps.push(app);
    await eventually(
      () =>
        segmentsHere(app, 'deposits') === 3 && segmentsHere(app, 'notes') === 2,
      'every segment is claimed',
    );
    return app;
  }

  afterEach(async () => {
    while (apps.length > 0) await apps.pop()?.close();
    for (const schema of schemas.splice(0)) {
      await database
        .client()
        .query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it("carries the appended types: another app's consumer of other types is not woken", async () => {
    const namespace = freshNamespace();
    const writer = await start(namespace);
    const reader = await start(namespace);
    const deposits = wakes(reader, 'deposits');
    const notes = wakes(reader, 'notes');
    await writer.get(EventStore).append('note-1', [noted('over NATS')]);
    await eventually(
      () => wakes(reader, 'notes') === notes + 2,
      "the reader's note segments were woken",
    );
    // One relayed message wakes the reader's segments in one go: had it
    // woken the deposit segments, they would have counted by now.
    expect(wakes(reader, 'deposits')).toBe(deposits);
  });

  it('a wake-up without a body (an older app) wakes every segment', async () => {
    const namespace = freshNamespace();
    const reader = await start(namespace);
    const deposits = wakes(reader, 'deposits');
    const notes = wakes(reader, 'notes');
    const nc = await connect({ servers: NATS_URL });
    try {
      nc.publish(`chronicle.${namespace}.events`);
      await nc.flush();
    } finally {
      await nc.close();
    }
    await eventually(
      () =>
        wakes(reader, 'notes') === notes + 2 &&
        wakes(reader, 'deposits') === deposits + 3,
      'every segment of the reader was woken',
    );
  });
});
