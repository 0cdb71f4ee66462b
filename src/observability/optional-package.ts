// Loads a package the application may or may not have installed (prom-client, @opentelemetry/api):
// zart declares them as optional peer dependencies, so the application's one copy is the one used.
import { createRequire } from 'node:module';

// Resolved from zart's own location, as a static import would be: the application's copy, hoisted.
const load = createRequire(__filename);

/** @internal The package's exports, or undefined when it is not installed. */
export function loadOptionalPackage<T>(name: string): T | undefined {
  try {
    return load(name) as T;
  } catch (error) {
    // Only a missing package means "not installed"; a package that fails to load is a real problem.
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String(error).includes(`'${name}'`)) {
      return undefined;
    }
    throw error;
  }
}
