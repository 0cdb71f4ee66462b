// Five projects: unit (no database), integration (real PostgreSQL, one file per behaviour),
// crash (child processes killed with SIGKILL), chaos (three workers under seeded faults, on a
// private PostgreSQL server; one file, so it runs in one jest worker) and samples (each sample in
// samples/ run as a user runs it). `npm test` runs all five.
import type { Config } from 'jest';

const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { ignoreCodes: [151002] } }] },
  moduleNameMapper: {
    '^zart$': '<rootDir>/src/index.ts',
    '^zart/testing$': '<rootDir>/src/testing/index.ts',
    '^zart/nestjs$': '<rootDir>/src/nestjs/index.ts',
  },
} satisfies Config;

const config: Config = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...shared, displayName: 'crash', testMatch: ['<rootDir>/test/crash/**/*.test.ts'] },
    { ...shared, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] },
    { ...shared, displayName: 'samples', testMatch: ['<rootDir>/test/samples/**/*.test.ts'] },
  ],
};

export default config;
