import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { messageSubject, type WireMessage } from '../../index.js';
import { postgresDatabase } from '../../../test/databases.js';
import { freshNamespace, NATS_URL } from '../../../test/nats.js';
import { wireHygieneSuite } from '../../../test/wire-hygiene.suite.js';
import { CapturedLogger, startWireApp } from '../../../test/wire.fixture.js';

const database = postgresDatabase();
afterAll(() => database.close());

// A handler app and a caller app on a real NATS server (max_payload 1 MiB,
// its default), and a raw NATS client sending what any client could.
describe('the wire over NATS', () => {
  wireHygieneSuite(
    async (unknownFields) => {
      const namespace = freshNamespace();
      const chronicle = (app: string) => ({
        app,
        messages: { unknownFields },
        transport: { nats: NATS_URL, namespace },
      });
      const logger = new CapturedLogger();
      const handler = await startWireApp({
        client: database.client(),
        handlers: true,
        chronicle: chronicle('members'),
        logger,
      });
      const caller = await startWireApp({
        client: database.client(),
        handlers: false,
        chronicle: chronicle('front'),
        logger,
      });
      const raw = await connect({ servers: NATS_URL });
      return {
        caller,
        handler,
        async sendRaw(type: string, message: WireMessage, reply: boolean) {
          const subject = messageSubject(namespace, 'command', type);
          const h = natsHeaders();
          for (const [key, value] of Object.entries(message.headers)) {
            h.set(key, value);
          }
          const options = Object.keys(message.headers).length
            ? { headers: h }
            : {};
          if (!reply) {
            raw.publish(subject, message.body, options);
            return undefined;
          }
          const answer = await raw.request(subject, message.body, {
            ...options,
            timeout: 30_000,
          });
          const replyHeaders: Record<string, string> = {};
          for (const [key, values] of answer.headers ?? []) {
            replyHeaders[key] = values[0];
          }
          return { headers: replyHeaders, body: answer.string() };
        },
        async close() {
          await raw.drain();
          await caller.close();
          await handler.close();
        },
      };
    },
    { repliesTravel: true },
  );
});
