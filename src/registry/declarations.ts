// The one place decorators and their plain-function twins record what was declared. It lives on
// globalThis under a Symbol.for key so two installed copies of zart see the same declarations.
import type { Duration } from '../duration/parse-duration';
import type { RetryPolicy } from '../engine/retry-policy';
import type { ScheduleDeclarationOptions } from '../schedules/schedule-options';

/** A class with a `run(input)` entry method. */
export type WorkflowClass<TInput = never, TOutput = unknown> = abstract new (...args: never[]) => {
  run(input: TInput): Promise<TOutput> | TOutput;
};

/** The input type of a workflow class: the parameter of its `run()`. */
export type WorkflowInput<W> = W extends abstract new (...args: never[]) => { run(input: infer I): unknown }
  ? I
  : never;

/** The output type of a workflow class: what its `run()` resolves to. */
export type WorkflowOutput<W> = W extends abstract new (...args: never[]) => { run(...args: never[]): infer O }
  ? Awaited<O>
  : never;

/** The parameter list of a workflow class's `run()`: `[]` when it takes no input. */
type RunParameters<W> = W extends abstract new (...args: never[]) => { run(...args: infer P): unknown } ? P : never;

/**
 * What follows the workflow class in `startWorkflow(W, ...)` and `startChild(W, ...)`: the input,
 * which may be left out when `run()` takes none (or an optional one), then the options.
 */
export type WorkflowStartArguments<W, TOptions> =
  [] extends RunParameters<W>
    ? [input?: WorkflowInput<W>, options?: TOptions]
    : [input: WorkflowInput<W>, options?: TOptions];

/** Any class; `@Step` may decorate methods of any class. */
export type AnyClass = abstract new (...args: never[]) => object;

/** A class whose instances class-validator and class-transformer understand. */
export type InputClass<T = unknown> = new (...args: never[]) => T;

/** Options of `@Workflow()` and `registerWorkflow()`. */
export interface WorkflowOptions {
  /** Name stored on runs and used by `startWorkflow(name, ...)`. Default: the class name. */
  name?: string | undefined;
  /**
   * The code version recorded on each run this process starts (default: the `version` option of
   * Zart). Workers claim only runs of versions they serve (docs/versioning.md).
   */
  version?: string | undefined;
  /** Names this workflow had before: its runs started under them are claimed and replayed by it. */
  formerNames?: readonly string[] | undefined;
  /** Only workers serving this queue claim its runs. Default `'default'`. */
  queue?: string | undefined;
  /** The input class to instantiate and validate. Default: the type of `run`'s parameter. */
  input?: InputClass | undefined;
  /** Run a failed run again from its checkpoints (failed steps run again). Default: no retry. */
  retry?: RetryPolicy | undefined;
  /** A deadline from the first start: past it the run fails with DeadlineExceededError. */
  timeout?: Duration | undefined;
  /**
   * How many times in a row a run may be taken over from a dead worker without making progress
   * before its next step fails it with CrashLoopError instead of running (and killing a worker)
   * again. Default 10.
   */
  maxRecoveries?: number | undefined;
}

/** Options of `@Step()`, `registerStep()` and `step()`. */
export interface StepOptions {
  /** Name used in step keys (`name#n`). Default: `ClassName.method`. */
  name?: string | undefined;
  /** Retry a failing step; attempts and the next attempt's time are persisted. Default: no retry. */
  retry?: RetryPolicy | undefined;
  /**
   * Run the step in a database transaction that also writes its checkpoint (`stepTransaction()`
   * gives its EntityManager): the step's writes and its checkpoint commit together, exactly once.
   */
  transaction?: boolean | undefined;
  /** Bounds one attempt: past it the attempt fails with StepTimeoutError (retried like any error). */
  timeout?: Duration | undefined;
}

/** @internal */
export interface WorkflowDeclaration {
  target: AnyClass;
  options: WorkflowOptions;
  /** `design:paramtypes` of `run`, captured when the class was declared. */
  runParamTypes: readonly unknown[] | undefined;
}

/** @internal */
export interface StepDeclaration {
  target: AnyClass;
  method: string;
  name: string;
}

/** @internal A `@Schedule()` on a workflow class. */
export interface ScheduleDeclaration {
  target: AnyClass;
  cron: string;
  options: ScheduleDeclarationOptions;
}

/** @internal */
export interface Declarations {
  workflows: WorkflowDeclaration[];
  steps: StepDeclaration[];
  /** Optional: a copy of zart from before schedules created the holder without it. */
  schedules?: ScheduleDeclaration[];
}

const key = Symbol.for('zart.declarations');

/** @internal The process-wide declarations (shared by every copy of zart). */
export function declarations(): Declarations {
  const holder = globalThis as { [key]?: Declarations };
  return (holder[key] ??= { workflows: [], steps: [] });
}

/** @internal Durations accepted in options. */
export type { Duration, RetryPolicy };
