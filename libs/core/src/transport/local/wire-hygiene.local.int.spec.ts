import {
  messageSubject,
  Transport,
  type ChronicleModuleOptions,
  type UnknownFieldsPolicy,
  type WireMessage,
} from '../../index.js';
import { pgliteDatabase } from '../../../test/databases.js';
import {
  wireHygieneSuite,
  type WirePair,
} from '../../../test/wire-hygiene.suite.js';
import { startWireApp } from '../../../test/wire.fixture.js';

const database = pgliteDatabase();
afterAll(() => database.close());

/** One embedded app; a raw client is anyone holding its in-process transport. */
async function single(
  unknownFields: UnknownFieldsPolicy | undefined,
  transport: ChronicleModuleOptions['transport'],
): Promise<WirePair> {
  const app = await startWireApp({
    client: database.client(),
    handlers: true,
    chronicle: { app: 'members', messages: { unknownFields }, transport },
  });
  const wire = app.app.get(Transport);
  return {
    caller: app,
    handler: app,
    async sendRaw(type: string, message: WireMessage, reply: boolean) {
      const subject = messageSubject('default', 'command', type);
      if (!reply) {
        await wire.publish(subject, message);
        return undefined;
      }
      return wire.request(subject, message, {
        timeoutMs: 30_000,
        messageType: type,
      });
    },
    close: () => app.close(),
  };
}

describe('the wire in process (embedded, handlers run where they are sent)', () => {
  wireHygieneSuite((unknownFields) => single(unknownFields, { local: true }), {
    repliesTravel: false,
  });
});

describe('the wire in process, routed through the local transport with a 1 MiB limit', () => {
  wireHygieneSuite(
    (unknownFields) =>
      single(unknownFields, {
        local: true,
        routing: 'remote',
        maxPayloadBytes: 1_048_576,
      }),
    { repliesTravel: true },
  );
});
