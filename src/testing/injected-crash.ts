// Crash injection for tests: an execution that reaches an armed crash point dies there, in the
// test's own process, as if its process had been killed: it writes nothing more (no checkpoint, no
// hand-back) and keeps its lease until the lease expires or the test recovers the run.
import type { CrashPoint, StepAtCrashPoint } from '../engine/test-hooks';

export type { CrashPoint } from '../engine/test-hooks';

/** Options of `TestEnvironment.crashAt()`. */
export interface CrashOptions {
  /**
   * `'before-step'` (default): the attempt does not run. `'after-effect'`: the step's body ran
   * (a transactional step's transaction is rolled back) and its checkpoint is not written.
   */
  when?: CrashPoint;
  /** Only an execution of this run dies. Default: the first run that reaches the step. */
  runId?: string;
}

/** An execution that died on a crash point. */
export interface CrashedExecution {
  readonly runId: string;
  /** The key of the step call it died at (`name#n`). */
  readonly stepKey: string;
  /** The attempt of the step it died in (or before). */
  readonly attempt: number;
  /** The lease epoch of the dead execution; the run's next execution has a higher one. */
  readonly epoch: number;
}

/** A crash point armed with `crashAt()`: it fires once, for the first matching step call. */
export interface InjectedCrash {
  /** The step name (`Payments.charge`, `step('name')`) or key (`Payments.charge#1`) it waits for. */
  readonly step: string;
  readonly when: CrashPoint;
  /** Resolves when an execution died there. */
  readonly crashed: Promise<CrashedExecution>;
  /**
   * Waits for the crash, then ends the dead execution's lease now instead of after its full term,
   * so a worker of the environment takes the run over exactly as after a real crash: a replay
   * from the checkpoints, a new lease epoch, one more crash recovery counted.
   */
  recover(): Promise<CrashedExecution>;
}

/** @internal The armed crash points of one environment. */
export class CrashPoints {
  private readonly armed = new Set<{
    step: string;
    when: CrashPoint;
    runId?: string;
    fire(at: CrashedExecution): void;
  }>();

  constructor(private readonly expire: (crash: CrashedExecution) => Promise<void>) {}

  arm(step: string, options: { when: CrashPoint; runId?: string }): InjectedCrash {
    let fire!: (at: CrashedExecution) => void;
    const crashed = new Promise<CrashedExecution>((resolve) => (fire = resolve));
    const entry = { step, ...options, fire };
    this.armed.add(entry);
    return {
      step,
      when: options.when,
      crashed,
      recover: async () => {
        const crash = await crashed;
        await this.expire(crash);
        return crash;
      },
    };
  }

  /** Whether the step call dies here; a crash point fires once. */
  crashesAt(point: CrashPoint, call: StepAtCrashPoint): boolean {
    for (const entry of this.armed) {
      if (entry.when !== point || (entry.step !== call.name && entry.step !== call.key)) continue;
      if (entry.runId !== undefined && entry.runId !== call.runId) continue;
      this.armed.delete(entry);
      entry.fire({ runId: call.runId, stepKey: call.key, attempt: call.attempt, epoch: call.epoch });
      return true;
    }
    return false;
  }
}
