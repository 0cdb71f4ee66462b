// Three projects: unit (no database), integration (real PostgreSQL, one file per behaviour)
// and crash (child processes killed with SIGKILL). `npm test` runs all three.
import type { Config } from 'jest';

const shared = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }] },
  moduleNameMapper: {
    '^zart$': '<rootDir>/src/index.ts',
    '^zart/testing$': '<rootDir>/src/testing/index.ts',
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
  ],
};

export default config;
