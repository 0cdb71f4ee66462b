// The history of a run as `exportRun()` and `zart runs export` give it: the run and every
// checkpoint in call order, values in their stored (serialized) form, large values inlined, so a
// test can replay it against new code (`replayHistory()` in zart/testing) without a database.
import type { StoredValue } from '../serialization/serializer';
import type { RunStatus, StepStatus } from '../storage/entities';

/** One durable call of an exported history. */
export interface RunHistoryCall {
  /** `name#n`; a `patched()` marker's key is `zart.patch:<id>`. */
  key: string;
  /** Position in the run's call order. */
  seq: number;
  /** Whether a replay checks the position; null in histories recorded before positions were. */
  sequential: boolean | null;
  /**
   * The order the call completed in among the run's calls; null when it had not completed, or in
   * histories recorded before completion order was (absent in histories exported then).
   */
  completionSeq?: number | null;
  name: string;
  argsHash: string | null;
  status: StepStatus;
  output: StoredValue | null;
  error: StoredValue | null;
  /** When the checkpoint was written (ISO 8601, database clock); absent in older exports. */
  finishedAt?: string | null;
  /** A sleep's or wait's wake time (ISO 8601, database clock), if it has one; absent in older exports. */
  wakeAt?: string | null;
}

/** A run's history as JSON: what `exportRun()` returns and `replayHistory()` takes. */
export interface RunHistory {
  format: 'zart.run-history/1';
  run: {
    id: string;
    workflow: string;
    version: string | null;
    status: RunStatus;
    attempt: number;
    input: StoredValue | null;
  };
  calls: RunHistoryCall[];
}
