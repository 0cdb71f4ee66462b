import { ConfigurationError } from '../../../src';
import { parseDuration } from '../../../src/duration/parse-duration';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
  ])('reads %p as %p ms', (input, ms) => {
    expect(parseDuration(input as never, 'x')).toBe(ms);
  });

  it.each(['soon', '10 minutes', '-5s', '', -1, Number.NaN])('rejects %p naming the option', (input) => {
    expect(() => parseDuration(input as never, 'worker.lease')).toThrow(ConfigurationError);
    expect(() => parseDuration(input as never, 'worker.lease')).toThrow(/^worker\.lease must be/);
  });
});

describe('parseDuration with a value of the wrong type', () => {
  it.each([null, undefined, {}, true, [], 10n, Symbol('x')])(
    'rejects %p with a ConfigurationError naming the option',
    (input) => {
      expect(() => parseDuration(input as never, 'sleep(duration)')).toThrow(ConfigurationError);
      expect(() => parseDuration(input as never, 'sleep(duration)')).toThrow(/^sleep\(duration\) must be .*got /);
    },
  );

  it('shows a circular object without throwing while describing it', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => parseDuration(circular as never, 'worker.lease')).toThrow(/got an object/);
  });
});
