// The TCP port the embedded server listens on: the caller's choice, else ZART_EMBEDDED_PORT, else
// a fixed default so successive runs find (and reuse) the same server.
import { ConfigurationError } from '../errors';

const defaultPort = 54329;

export function resolvePort(option: number | undefined): number {
  const fromEnv = process.env.ZART_EMBEDDED_PORT;
  const port = option ?? (fromEnv ? Number(fromEnv) : defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    const source = option === undefined ? `ZART_EMBEDDED_PORT="${fromEnv ?? ''}"` : `port ${String(option)}`;
    throw new ConfigurationError(`Invalid embedded PostgreSQL ${source}. Use a TCP port number between 1 and 65535.`);
  }
  return port;
}
