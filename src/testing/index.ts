// Public surface of `zart/testing`: a PostgreSQL server per test run and a database per test file.
// Explicit named re-exports only, so nothing internal leaks through this subpath.
export { createTestDatabase, resolveTestServer } from './test-database';
export type { CreateTestDatabaseOptions, TestDatabase, TestServer } from './test-database';
export { startEmbeddedPostgres } from '../embedded/embedded-postgres-server';
export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from '../embedded/embedded-postgres-server';
export { resolveDatabaseUrl } from '../embedded/resolve-database-url';
export type { ResolveDatabaseUrlOptions, ResolvedDatabaseUrl } from '../embedded/resolve-database-url';
