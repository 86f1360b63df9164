import { generateSigningKey, Transport } from '../../index.js';
import { pgliteDatabase } from '../../../test/databases.js';
import { ShipParcel } from '../../../test/shipping.fixture.js';
import { startApp } from '../../../test/transport-apps.js';
import { secret } from '../../../test/secret-watch.js';

// The embedded mode signs and verifies like the NATS one: the same wrapper
// over the in-process transport (here every command goes through it).

const database = pgliteDatabase();
afterAll(() => database.close());

it('signs and verifies over the in-process transport, with no NATS', async () => {
  const key = generateSigningKey();
  secret(key.privateKey);
  secret(key.privateKey);
  const app = await startApp({
    instance: 'embedded',
    client: database.client(),
    handlers: true,
    chronicle: {
      app: 'shipping',
      transport: {
        local: true,
        routing: 'remote',
        signing: {
          privateKey: key.privateKey,
          trustedKeys: { shipping: key.publicKey },
        },
      },
    },
  });
  try {
    expect(app.app.get(Transport).status().kind).toBe('local');
    expect(app.app.get(Transport).constructor.name).toBe('SigningTransport');
    await expect(
      app.commands.execute(new ShipParcel('p-1', 1)),
    ).resolves.toEqual({
      parcelId: 'p-1',
      handledBy: 'embedded',
    });
  } finally {
    await app.close();
  }
});
