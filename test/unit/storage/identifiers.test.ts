import { ConfigurationError, RunNotFoundError } from '../../../src';
import { checkEventName, checkExistingRunId, checkRunId } from '../../../src/storage/identifiers';

describe('checkRunId', () => {
  it.each(['', 'a\nb', 'a\rb', 'a\u0000b', 'x'.repeat(513), 5, null])('rejects %p naming the caller', (id) => {
    expect(() => checkRunId(id, 'fork({ id })')).toThrow(ConfigurationError);
    expect(() => checkRunId(id, 'fork({ id })')).toThrow(/^fork\(\{ id \}\): a run id must be/);
  });

  it('accepts an id of 512 characters', () => {
    expect(() => checkRunId('x'.repeat(512), 'startWorkflow({ id })')).not.toThrow();
  });
});

describe('checkExistingRunId', () => {
  it.each(['', 'a\u0000b', 'a\nb', 'x'.repeat(513)])('answers %p with RunNotFoundError: no run can have it', (id) => {
    expect(() => checkExistingRunId(id, 'getRun(id)')).toThrow(RunNotFoundError);
  });

  it('rejects an id that is not a string with a ConfigurationError', () => {
    expect(() => checkExistingRunId(5, 'getRun(id)')).toThrow(/^getRun\(id\): a run id must be a string, got 5/);
  });
});

describe('checkEventName', () => {
  it.each(['', 'a\nb', 'a\u0000b', 5, null])('rejects %p naming the caller', (name) => {
    expect(() => checkEventName(name, 'sendEvent()')).toThrow(ConfigurationError);
  });
});
