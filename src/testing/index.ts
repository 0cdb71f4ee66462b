// Public surface of `zart/testing`: a PostgreSQL server per test run, a database per test file, and
// a test environment that skips time and injects crashes. Explicit named re-exports only, so
// nothing internal leaks through this subpath.
export { createTestDatabase, resolveTestServer } from './test-database';
export type { CreateTestDatabaseOptions, TestDatabase, TestServer } from './test-database';
export { createTestEnvironment } from './test-environment';
export type { TestEnvironment, TestEnvironmentOptions, WaitUntilIdleOptions } from './test-environment';
export type { CrashOptions, CrashPoint, CrashedExecution, InjectedCrash } from './injected-crash';
export { SimulatedCrashError } from '../errors';
export { startEmbeddedPostgres } from '../embedded/embedded-postgres-server';
export type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from '../embedded/embedded-postgres-server';
export { resolveDatabaseUrl } from '../embedded/resolve-database-url';
export type { ResolveDatabaseUrlOptions, ResolvedDatabaseUrl } from '../embedded/resolve-database-url';
export { replayHistory } from './replay-history';
export type { ReplayHistoryOptions, ReplayReport, ReplayDivergence } from './replay-history';
export type { RunHistory, RunHistoryCall } from '../client/run-history';
