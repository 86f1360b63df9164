import { redactUrl } from './index.js';

// Every shape of URL Chronicle may print: secrets gone, the rest still readable.
describe('redactUrl', () => {
  it.each([
    [
      'NATS user and password',
      'nats://svc-user:S3cr3tPassw0rd@nats.internal:4222',
      'nats://svc-user:***@nats.internal:4222',
    ],
    [
      'NATS token',
      'nats://s3cr3t-token@nats.internal:4222',
      'nats://***@nats.internal:4222',
    ],
    [
      'NATS without credentials',
      'nats://127.0.0.1:4222',
      'nats://127.0.0.1:4222',
    ],
    [
      'NATS list with credentials on each',
      'nats://a:pw1@n1:4222, nats://tok@n2:4222,n3:4222',
      'nats://a:***@n1:4222, nats://***@n2:4222,n3:4222',
    ],
    [
      'NATS host:port without a scheme, with a token',
      'tok3n@127.0.0.1:4222',
      '***@127.0.0.1:4222',
    ],
    [
      'NATS host:port without a scheme, with user and password',
      'bob:pw@127.0.0.1:4222',
      'bob:***@127.0.0.1:4222',
    ],
    [
      'TLS scheme',
      'tls://bob:pw@nats.example.com',
      'tls://bob:***@nats.example.com',
    ],
    [
      'websocket scheme',
      'wss://bob:pw@nats.example.com/ws',
      'wss://bob:***@nats.example.com/ws',
    ],
    ['IPv6 host', 'nats://bob:pw@[::1]:4222', 'nats://bob:***@[::1]:4222'],
    [
      'PostgreSQL user and password',
      'postgres://app:S3cr3t@db.internal:5432/shop',
      'postgres://app:***@db.internal:5432/shop',
    ],
    [
      'PostgreSQL user only (a role name, no secret)',
      'postgres://postgres@127.0.0.1:5432/test',
      'postgres://postgres@127.0.0.1:5432/test',
    ],
    [
      'postgresql scheme with a password parameter',
      'postgresql://db/shop?user=app&password=S3cr3t&sslmode=require',
      'postgresql://db/shop?user=app&password=***&sslmode=require',
    ],
    [
      'PostgreSQL sslpassword parameter',
      'postgres://app@db/shop?sslpassword=k3y',
      'postgres://app@db/shop?sslpassword=***',
    ],
    [
      'PostgreSQL with several hosts',
      'postgres://app:S3cr3t@db1:5432,db2:5432/shop',
      'postgres://app:***@db1:5432,db2:5432/shop',
    ],
    [
      'PostgreSQL password with @, :, a comma and /',
      'postgres://app:p@ss:w,o/rd@db/shop',
      'postgres://app:***@db/shop',
    ],
    [
      'PostgreSQL password with an unencoded ?',
      'postgres://app:pa?ss@db/shop',
      'postgres://app:***@db/shop',
    ],
    [
      'an @ in the query only',
      'postgres://app:pw@db/shop?application_name=a@b',
      'postgres://app:***@db/shop?application_name=a@b',
    ],
    [
      'percent-encoded password',
      'nats://bob:p%40ss%2Cw@n1:4222',
      'nats://bob:***@n1:4222',
    ],
    [
      'libpq keyword string',
      'host=db user=app password=S3cr3t dbname=shop',
      'host=db user=app password=*** dbname=shop',
    ],
    ['empty', '', ''],
  ])('%s', (_, url, printed) => {
    expect(redactUrl(url)).toBe(printed);
  });
});
