// The Zart a TestEnvironment starts: an ordinary Zart whose executions read the environment's
// skipped clock and crash points. The only way to install test hooks; never exported.
import { Zart } from '../client/zart';
import type { TestHooks } from '../engine/test-hooks';
import type { ZartOptions } from '../options/resolve-options';
import type { ZartDatabase } from '../storage/zart-database';

/** @internal */
export class HookedZart extends Zart {
  constructor(
    options: ZartOptions,
    private readonly hooks: TestHooks,
  ) {
    super(options);
  }

  protected override testHooks(): TestHooks {
    return this.hooks;
  }

  /** The started Zart's database, for the environment's own statements. */
  database(): ZartDatabase {
    return this.connected();
  }
}
