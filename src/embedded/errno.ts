// Node's errno codes (ENOENT, ESRCH, ...) read off `unknown` errors, for the file and process calls
// of the embedded server that expect some failures.

export function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

export function ignoreMissing(error: unknown): undefined {
  if (errorCode(error) === 'ENOENT') return undefined;
  throw error;
}
