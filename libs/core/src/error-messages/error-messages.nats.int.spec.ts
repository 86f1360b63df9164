import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  MessageGateway,
  MessageLogWriter,
  type HandlingFailed,
} from '../index.js';
import { freshSchema, postgresDatabase } from '../../test/databases.js';
import {
  ErrorHandlersModule,
  ErrorWitness,
} from '../../test/error-messages.fixture.js';
import { LedgerModule, Withdraw } from '../../test/message-log.fixture.js';
import { eventually, freshNamespace, NATS_URL } from '../../test/nats.js';

// App "ledger" fails commands; app "alerts" (two instances) and app "audit"
// handle those failures with @HandleError(Withdraw), over NATS core.

const database = postgresDatabase();
const schema = freshSchema('ern');
const namespace = freshNamespace();
const apps: INestApplicationContext[] = [];

async function start(
  app: string,
  instance: string,
  features: DynamicModule[] | (typeof LedgerModule)[],
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app,
        database: { client: database.client(), schema },
        transport: { nats: { servers: NATS_URL }, namespace },
        tracking: { instanceId: instance },
      }),
      ...features,
    ],
  }).compile();
  const started = await moduleRef.init();
  apps.push(started);
  return started;
}

afterAll(async () => {
  while (apps.length > 0) await apps.pop()?.close();
  await database.client().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
});

describe('errors as messages across apps over NATS', () => {
  it("a command failing in one app reaches each other app's @HandleError once, with what failed and where", async () => {
    const ledger = await start('ledger', 'ledger-a', [LedgerModule]);
    const alerts = [
      await start('alerts', 'alerts-1', [ErrorHandlersModule.of('alerts-1')]),
      await start('alerts', 'alerts-2', [ErrorHandlersModule.of('alerts-2')]),
    ].map((app) => app.get(ErrorWitness));
    const audit = (
      await start('audit', 'audit-1', [ErrorHandlersModule.of('audit-1')])
    ).get(ErrorWitness);
    const gateway = ledger.get(MessageGateway);
    const fail = (id: string) =>
      expect(
        gateway.send(new Withdraw(id), {
          id,
          metadata: { correlationId: `conversation-${id}` },
        }),
      ).rejects.toThrow('would be overdrawn');

    const sent = ['w-1', 'w-2', 'w-3', 'w-4', 'w-5', 'w-6'];
    for (const id of sent) await fail(id);

    // NATS keeps one publisher's order on each connection: once an instance
    // has seen a later message, it has seen every earlier one sent its way.
    // Markers until each instance has had one; then nothing more can come.
    const seenBy = (witness: ErrorWitness, id: string) =>
      witness.of('withdraw').some((f) => f.messageId === id);
    for (
      let k = 1;
      !alerts.every((w) =>
        w.seen.some((s) => s.failed.messageId.startsWith('m-')),
      );
      k++
    ) {
      if (k > 60)
        throw new Error('NATS never gave both alerts instances a marker');
      const marker = `m-${k}`;
      await fail(marker);
      await eventually(
        () => alerts.some((w) => seenBy(w, marker)) && seenBy(audit, marker),
        `marker ${marker} to reach both apps`,
      );
    }

    const once = (witnesses: ErrorWitness[], id: string) =>
      witnesses
        .flatMap((w) => w.of('withdraw'))
        .filter((f) => f.messageId === id).length;
    for (const id of sent) {
      expect([id, once(alerts, id)]).toEqual([id, 1]);
      expect([id, once([audit], id)]).toEqual([id, 1]);
    }

    const failed = audit
      .of('withdraw')
      .find((f) => f.messageId === 'w-1') as HandlingFailed;
    expect(failed).toMatchObject({
      messageType: 'ledger.Withdraw',
      messageKind: 'command',
      correlationId: 'conversation-w-1',
      handler: 'command:WithdrawHandler',
      app: 'ledger',
      instance: 'ledger-a',
      error: { name: 'Overdrawn', code: 'OVERDRAWN' },
      outcome: 'rejected',
      attempt: 1,
      next: 'returned',
    });
    expect(failed.error.stack).toBeUndefined();
    expect(audit.seen.find((s) => s.failed === failed)?.causationId).toBe(
      'w-1',
    );

    // The failing app logged it: the row others' reactions are caused by.
    await ledger.get(MessageLogWriter).flush();
    const rows = await database.client().query<{
      id: string;
      causation_id: string;
      error_code: string;
    }>(
      `SELECT id, causation_id, error_code FROM "${schema}".message_log
        WHERE kind = 'error' AND causation_id = 'w-1'`,
    );
    expect(rows).toEqual([
      { id: failed.id, causation_id: 'w-1', error_code: 'OVERDRAWN' },
    ]);
  });
});
