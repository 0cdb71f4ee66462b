import { loadOptionalPackage } from '../../../src/observability/optional-package';

describe('an optional peer dependency', () => {
  it('is undefined when the application has not installed it', () => {
    expect(loadOptionalPackage('zart-no-such-package')).toBeUndefined();
  });

  it("is the application's copy when installed", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(loadOptionalPackage('prom-client')).toBe(require('prom-client'));
  });
});
