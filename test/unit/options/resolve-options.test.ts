import { ConfigurationError, type ZartOptions } from '../../../src';
import { resolveOptions } from '../../../src/options/resolve-options';

const url = 'postgres://postgres@127.0.0.1:1/none';

function problemsOf(options: unknown, withWorker = true): string {
  try {
    resolveOptions(options as ZartOptions, withWorker);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('ZART_CONFIGURATION');
    return (error as Error).message;
  }
  throw new Error('resolveOptions accepted the options');
}

describe('resolveOptions', () => {
  it('rejects options that are not an object', () => {
    expect(problemsOf(null)).toMatch(/new Zart\(options\) takes an object of options, got null/);
    expect(problemsOf(5)).toMatch(/got 5/);
  });

  it.each([
    [{ logger: 5 }, /logger must be an object with debug, info, warn and error methods/],
    [{ logger: { info: () => undefined } }, /logger must be an object with debug, info, warn and error methods/],
    [{ serializer: 5 }, /serializer must be an object with serialize and deserialize methods/],
    [{ migrate: 'no' }, /migrate must be true or false, got "no"/],
    [{ errorClasses: [5] }, /errorClasses must be an array of error classes/],
    [{ errorClasses: 'TypeError' }, /errorClasses must be an array of error classes/],
    [{ poolSize: '10' }, /poolSize must be an integer of at least 2, got "10"/],
    [{ resolve: 5 }, /resolve must be a function/],
    [{ worker: true }, /worker must be false or an object of worker options, got true/],
    [{ worker: null }, /worker must be false or an object of worker options, got null/],
    [{ worker: { lease: {} } }, /worker\.lease must be a non-negative number of milliseconds or a string/],
    [{ worker: { drain: true } }, /worker\.drain must be .* got true/],
    [{ worker: { concurrency: '5' } }, /worker\.concurrency must be a positive integer, got "5"/],
    [{ connectionString: 5 }, /connectionString must be a postgres:\/\/ URL string, got 5/],
    [{ connectionString: url, schema: 5 }, /schema must be a lower-case SQL identifier/],
    [{ connectionString: undefined, dataSource: {} }, /dataSource must be a TypeORM DataSource/],
    [{ connectTimeout: 'never' }, /connectTimeout must be/],
    [{ statementTimeout: null }, /statementTimeout must be .* got null/],
    [{ version: '' }, /version must be a non-empty string of at most 200 characters/],
    [{ version: 3 }, /version must be a non-empty string .* got 3/],
    [{ worker: { compatibleVersions: 'v1' } }, /worker\.compatibleVersions must be an array of version strings/],
  ])('rejects %p naming the option', (options, message) => {
    expect(problemsOf({ connectionString: url, ...options })).toMatch(message);
  });

  it.each(['nonsense', 'http://example.com/db', 'postgres://user:secret@127.0.0.1:99999/db'])(
    'rejects the connection string %p without echoing it',
    (connectionString) => {
      const message = problemsOf({ connectionString });
      expect(message).toMatch(/connectionString must be a postgres:\/\/user:password@host:port\/database URL/);
      expect(message).not.toContain('secret');
    },
  );

  it('accepts postgres://, postgresql:// and socket: URLs', () => {
    for (const connectionString of ['postgres://u@h/db', 'postgresql://u@h:5433/db', 'socket:/var/run/postgresql?db=x'])
      expect(resolveOptions({ connectionString }, true).connection).toMatchObject({
        kind: 'url',
        url: connectionString,
      });
  });

  it('lists every problem at once', () => {
    const message = problemsOf({ connectionString: url, logger: 5, migrate: 'no', worker: { lease: {} } });
    expect(message).toMatch(/logger/);
    expect(message).toMatch(/migrate/);
    expect(message).toMatch(/worker\.lease/);
  });

  it('limits the schema name so its notification channels fit in 63 bytes', () => {
    expect(resolveOptions({ connectionString: url, schema: 'a'.repeat(50) }, true).schema).toBe('a'.repeat(50));
    expect(problemsOf({ connectionString: url, schema: 'a'.repeat(51) })).toMatch(
      /schema must be at most 50 characters.*got 51/,
    );
  });

  it('resolves the connection timeouts with their defaults', () => {
    const resolved = resolveOptions({ connectionString: url }, true);
    expect(resolved.connection).toMatchObject({ connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 });
    const custom = resolveOptions({ connectionString: url, connectTimeout: '2s', statementTimeout: 0 }, true);
    expect(custom.connection).toMatchObject({ connectTimeoutMs: 2_000, statementTimeoutMs: 0 });
  });
});
