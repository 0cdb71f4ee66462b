import { isConnectionError, isTransientError, retryOnDisconnect } from '../../../src/storage/reconnect';

const failure = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });

describe('transient database errors', () => {
  it('counts a refused, dropped or overfull connection as a connection failure, not a statement error', () => {
    expect(isConnectionError(failure('53300', 'sorry, too many clients already'))).toBe(true);
    expect(isConnectionError(failure('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isConnectionError(failure('08006'))).toBe(true);
    expect(isConnectionError(failure('ECONNREFUSED'))).toBe(true);
    expect(isConnectionError(failure('42601', 'syntax error'))).toBe(false);
    expect(isTransientError(failure('40P01', 'deadlock detected'))).toBe(true);
    expect(isTransientError(failure('23505', 'duplicate key'))).toBe(false);
  });

  it('retries an operation while the server has too many clients, and not past a statement error', async () => {
    let calls = 0;
    const value = await retryOnDisconnect(async () => {
      calls++;
      if (calls < 3) throw failure('53300', 'sorry, too many clients already');
      return 'written';
    }, new AbortController().signal);
    expect({ value, calls }).toEqual({ value: 'written', calls: 3 });

    calls = 0;
    const refused = retryOnDisconnect(async () => {
      calls++;
      throw failure('42601', 'syntax error');
    }, new AbortController().signal);
    await expect(refused).rejects.toThrow('syntax error');
    expect(calls).toBe(1);
  });
});
