// Jest global teardown: stops the server global-setup started (a no-op for DATABASE_URL).
import { stopTestServerKey } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as Record<symbol, unknown>)[stopTestServerKey];
  if (typeof stop === 'function') await (stop as () => Promise<void>)();
}
