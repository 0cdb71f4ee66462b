// An option given as `undefined` (what `process.env.X` or a missing config value produces, and what
// the types accept under exactOptionalPropertyTypes) means "not given": it takes the default.
import { resolveOptions } from '../../../src/options/resolve-options';

const url = 'postgres://postgres@127.0.0.1:1/none';

afterEach(() => {
  delete process.env.DATABASE_URL;
});

test('every option set to undefined resolves exactly as no option at all', () => {
  process.env.DATABASE_URL = url;
  const allUndefined = resolveOptions(
    {
      connectionString: undefined,
      dataSource: undefined,
      schema: undefined,
      migrate: undefined,
      worker: {
        concurrency: undefined,
        queues: undefined,
        lease: undefined,
        pollInterval: undefined,
        drain: undefined,
        maxInProcessWait: undefined,
      },
      resolve: undefined,
      logger: undefined,
      serializer: undefined,
      errorClasses: undefined,
      poolSize: undefined,
      limits: { maxValueSize: undefined },
      largeValues: undefined,
      connectTimeout: undefined,
      statementTimeout: undefined,
    },
    true,
  );
  const none = resolveOptions({}, true);
  expect(allUndefined.connection).toEqual(none.connection);
  expect(allUndefined.worker).toEqual(none.worker);
  expect({ schema: allUndefined.schema, migrate: allUndefined.migrate }).toEqual({ schema: 'zart', migrate: true });
});

test('connectionString: process.env.DATABASE_URL with the variable unset names DATABASE_URL as the fix', () => {
  expect(() => resolveOptions({ connectionString: process.env.DATABASE_URL }, true)).toThrow(
    'No database: pass connectionString or dataSource, or set DATABASE_URL.',
  );
});
