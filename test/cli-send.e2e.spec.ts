import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freshSchema } from '../libs/core/test/databases.js';
import { freshNamespace } from '../libs/core/test/nats.js';
import { Microclient } from './support/microclient.js';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}libs/core/bin/chronicle.js`;

/** Runs `chronicle <args>` as a user would, through the package's bin. */
async function chronicle(...args: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [bin, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('chronicle send and chronicle query, against a running microclient', () => {
  const namespace = freshNamespace();
  let parcels: Microclient;

  beforeAll(async () => {
    parcels = Microclient.start(`${root}test/support/parcel-app.mjs`, {
      CHRONICLE_NAMESPACE: namespace,
      CHRONICLE_SCHEMA: freshSchema('cli_send'),
      INSTANCE: 'p1',
    });
    await parcels.ready();
  });

  afterAll(async () => {
    parcels.stop();
    await parcels.exited;
  });

  it('sends a command and prints the handler result as JSON', async () => {
    const { code, stdout } = await chronicle(
      'send',
      'ship.ShipParcel',
      '{"parcelId":"p-1","weightKg":2}',
      '--namespace',
      namespace,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ parcelId: 'p-1', handledBy: 'p1' });
  });

  it('asks a query and prints its answer', async () => {
    const { code, stdout } = await chronicle(
      'query',
      'ship.ParcelStatus',
      '{"parcelId":"p-1"}',
      '--namespace',
      namespace,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      parcelId: 'p-1',
      status: 'in transit',
      answeredBy: 'p1',
    });
  });

  it('reports the fields a command breaks, with exit code 1', async () => {
    const { code, stderr } = await chronicle(
      'send',
      'ship.ShipParcel',
      '{"parcelId":"p-2","weightKg":-1}',
      '--namespace',
      namespace,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/ship\.ShipParcel/);
    expect(stderr).toMatch(/weightKg/);
  });

  it('says so when no app handles the type', async () => {
    const { code, stderr } = await chronicle(
      'send',
      'ship.Teleport',
      '{}',
      '--namespace',
      namespace,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/ship\.Teleport/);
  });

  it('sends as the --user given; a handler that needs a role refuses others, by name', async () => {
    const recall = (...user: string[]) =>
      chronicle(
        'send',
        'ship.RecallParcel',
        '{"parcelId":"p-1"}',
        '--namespace',
        namespace,
        ...user,
      );
    const allowed = await recall(
      '--user',
      '{"id":"dora","roles":["dispatcher"]}',
    );
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toBe('p-1 recalled by dora');

    const forbidden = await recall('--user', '{"id":"max","roles":["driver"]}');
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain(
      'User max may not have ship.RecallParcel handled: it needs one of the roles dispatcher.',
    );

    const anonymous = await recall();
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('ship.RecallParcel needs a user');

    const garbled = await recall('--user', 'dora');
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/--user is not valid JSON/);
  });

  it('rejects a payload that is not a JSON object before sending, with exit code 2', async () => {
    const bad = await chronicle('send', 'ship.ShipParcel', '{parcelId: 1}');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid JSON/);
    const list = await chronicle('send', 'ship.ShipParcel', '[1]');
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/must be a JSON object/);
  });

  it('rejects an --id no app could accept before sending, with exit code 2', async () => {
    const { code, stderr } = await chronicle(
      'send',
      'ship.ShipParcel',
      '{"parcelId":"p-1","weightKg":1}',
      '--id',
      'p'.repeat(300),
      '--namespace',
      namespace,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid --id .*at most 256/);
  });
});
