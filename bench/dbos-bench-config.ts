// The one DBOS configuration every workload uses: DBOS's defaults (pool of 10, LISTEN/NOTIFY on,
// its own serializer), pointed at a system database of its own, with only its logging turned down.
import type { DBOSConfig } from '@dbos-inc/dbos-sdk';

export function dbosBenchConfig(systemDatabaseUrl: string): DBOSConfig {
  const poolSize = process.env.BENCH_DBOS_POOL_SIZE;
  return {
    name: 'zart-bench',
    systemDatabaseUrl,
    // Default 'info' prints a line per launch and recovery; zart's logger is quiet here too.
    logLevel: 'warn',
    // Unset by default (DBOS's default of 10); BENCH_DBOS_POOL_SIZE checks whether pool size bounds it.
    ...(poolSize ? { systemDatabasePoolSize: Number(poolSize) } : {}),
  };
}
