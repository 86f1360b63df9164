import { PgliteSqlClient } from './postgres/index.js';
import { withSearchPath } from './postgres/search-path.js';
import { projectionSchemaFor } from './projection-schema.js';
import { StoreConfigurationError } from './store.errors.js';

describe('projectionSchemaFor', () => {
  it('defaults to <store schema>_projections, beside the consumer positions', () => {
    expect(projectionSchemaFor({}, {})).toBe('chronicle_projections');
    expect(projectionSchemaFor({ schema: 'library' }, {})).toBe(
      'library_projections',
    );
    expect(projectionSchemaFor({}, { CHRONICLE_SCHEMA: 'shop' })).toBe(
      'shop_projections',
    );
  });

  it('takes database.projectionSchema, else CHRONICLE_PROJECTION_SCHEMA', () => {
    const env = { CHRONICLE_PROJECTION_SCHEMA: 'from_env' };
    expect(projectionSchemaFor({}, env)).toBe('from_env');
    expect(projectionSchemaFor({ projectionSchema: 'read_model' }, env)).toBe(
      'read_model',
    );
    expect(projectionSchemaFor({ projectionSchema: 'public' }, {})).toBe(
      'public',
    );
  });

  it('leaves a client handed in alone, and refuses a projectionSchema with it', () => {
    const client = PgliteSqlClient.fromInstance({} as never);
    expect(
      projectionSchemaFor({ client }, { CHRONICLE_PROJECTION_SCHEMA: 'x' }),
    ).toBeUndefined();
    expect(() =>
      projectionSchemaFor({ client, projectionSchema: 'read_model' }, {}),
    ).toThrow(
      /database\.client is yours: set the search_path on your own pool instead/,
    );
  });

  it("refuses Chronicle's own schema and names that would need quoting", () => {
    expect(() =>
      projectionSchemaFor({ schema: 'shop', projectionSchema: 'shop' }, {}),
    ).toThrow(StoreConfigurationError);
    expect(() =>
      projectionSchemaFor({ projectionSchema: 'Read-Model' }, {}),
    ).toThrow('Projection schema "Read-Model" is not allowed');
    expect(() => projectionSchemaFor({ schema: 'a'.repeat(60) }, {})).toThrow(
      'set database.projectionSchema to a shorter name',
    );
  });
});

describe('withSearchPath', () => {
  const url = 'postgres://app:secret@db.example:5432/shop';

  it('adds the search_path to the startup options of every connection', () => {
    const options = new URL(withSearchPath(url, 'shop_projections', {}))
      .searchParams;
    expect(options.get('options')).toBe(
      '-c search_path=shop_projections,public',
    );
  });

  it('keeps the options the URL or PGOPTIONS already had', () => {
    const withEndpoint = withSearchPath(
      `${url}?sslmode=require&options=endpoint%3Dep-1`,
      'p',
      { PGOPTIONS: '-c statement_timeout=5000' },
    );
    const params = new URL(withEndpoint).searchParams;
    expect(params.get('sslmode')).toBe('require');
    expect(params.get('options')).toBe('endpoint=ep-1 -c search_path=p,public');
    expect(
      new URL(
        withSearchPath(url, 'p', { PGOPTIONS: '-c statement_timeout=5000' }),
      ).searchParams.get('options'),
    ).toBe('-c statement_timeout=5000 -c search_path=p,public');
  });
});
