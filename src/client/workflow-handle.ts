// A handle on one run: its id, its status, and result(), which works from any process, also
// after the process that started the run died.
import type { Duration } from '../duration/parse-duration';
import type { RunStatus } from '../storage/entities';

/** Options of `handle.result()`. */
export interface ResultOptions {
  /** Reject with WaitTimeoutError after this long. Default: wait as long as it takes. */
  timeout?: Duration | undefined;
}

/** A started run. `TOutput` is the return type of the workflow's `run()`. */
export interface WorkflowHandle<TOutput> {
  /** The run id (its idempotency key). */
  readonly id: string;
  /** The workflow name. */
  readonly workflow: string;
  /** Resolves with the run's output, rejects with WorkflowFailedError or WorkflowCancelledError. */
  result(options?: ResultOptions): Promise<TOutput>;
  status(): Promise<RunStatus>;
}
