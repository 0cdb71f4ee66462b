// The consumer checks: zart as an application sees it, installed from the packed tarball into
// scratch projects (CommonJS and ESM, `zart init` output, every code block of the docs, apps on
// TypeORM 0.3 and 1.x with and without Nest). Kept out of `npm test`: they install from the npm
// registry and take minutes. `npm run check:consumer`; CI runs them as its second step (.ci/run).
import type { Config } from 'jest';

const config: Config = {
  globalSetup: '<rootDir>/test/consumer/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/consumer/support/global-teardown.ts',
  testTimeout: 10 * 60_000,
  projects: [
    {
      displayName: 'consumer',
      preset: 'ts-jest',
      testEnvironment: 'node',
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { ignoreCodes: [151002] } }],
      },
      testMatch: ['<rootDir>/test/consumer/**/*.test.ts'],
    },
  ],
};

export default config;
