import pg from 'pg';
import {
  PgSqlClient,
  StoreConfigurationError,
  typeOrmConnectionOptions,
  type SqlClient,
} from '../index.js';

describe('typeOrmConnectionOptions', () => {
  it("points TypeORM at the pool's own server and database", async () => {
    const pool = new pg.Pool({
      connectionString: 'postgres://app@db.example:6543/shop',
    });
    try {
      expect(typeOrmConnectionOptions(PgSqlClient.fromPool(pool))).toEqual({
        type: 'postgres',
        extra: expect.objectContaining({
          connectionString: 'postgres://app@db.example:6543/shop',
        }),
      });
    } finally {
      await pool.end();
    }
  });

  it('says so when the client is one it cannot see through', () => {
    const custom: SqlClient = {
      driver: 'pg',
      inTransaction: false,
      query: async () => [],
      exec: async () => undefined,
      transaction: (fn) => fn(custom),
      close: async () => undefined,
    };
    expect(() => typeOrmConnectionOptions(custom)).toThrow(
      StoreConfigurationError,
    );
    expect(() => typeOrmConnectionOptions(custom)).toThrow(/database\.client/);
  });
});
