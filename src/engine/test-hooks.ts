// What a test environment (zart/testing) may change in the executions of the Zart it creates: the
// time now() reports, and the points where an execution dies as if its process were killed. A
// production Zart has no hooks; the engine asks `services.testHooks?.` and nothing more.

/** Where a step call can be made to die: before its attempt runs, or after its effect but before its checkpoint. */
export type CrashPoint = 'before-step' | 'after-effect';

/** A step call at a crash point. */
export interface StepAtCrashPoint {
  readonly runId: string;
  /** `name#n` */
  readonly key: string;
  readonly name: string;
  readonly attempt: number;
  /** The lease epoch of the execution: the next claim of the run has a higher one. */
  readonly epoch: number;
}

/** @internal Installed only by zart/testing's environment (see Zart.testHooks()). */
export interface TestHooks {
  /** The time now() checkpoints: the real time plus the time the test skipped. */
  now(): Date;
  /** Whether the execution dies here: it writes nothing more and never goes on. */
  crashesAt(point: CrashPoint, step: StepAtCrashPoint): boolean;
}
