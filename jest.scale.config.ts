// `npm run test:scale`: workloads too large for `npm test`'s time budget on 2 cores (a parent
// fanning out to 10,000 children, a run of 10,000 steps replayed after a SIGKILL), run on their
// own; same setup as the main suite.
import type { Config } from 'jest';
import main from './jest.config';

const [unit] = main.projects as Config[];

const config: Config = {
  globalSetup: main.globalSetup,
  globalTeardown: main.globalTeardown,
  testTimeout: 600_000,
  projects: [{ ...unit, displayName: 'scale', testMatch: ['<rootDir>/test/scale/**/*.test.ts'] }],
};

export default config;
