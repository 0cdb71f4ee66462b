// What the inspection methods take and return: runs and checkpoints with values deserialized,
// live workers, retention options.
import type { Duration } from '../duration/parse-duration';
import type { RunStatus, StepStatus } from '../storage/entities';

/** A run as stored. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  version: string | null;
  status: RunStatus;
  queue: string;
  priority: number;
  input: unknown;
  /** The output of a completed run, else undefined. */
  output: unknown;
  /** The error of a failed run, rehydrated, else undefined. */
  error: unknown;
  attempt: number;
  /** Takeovers from a dead worker in a row without progress; see `@Workflow({ maxRecoveries })`. */
  recoveries: number;
  parentId: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The tick's time when a schedule started the run, else null. */
  scheduledAt: Date | null;
}

/** One step checkpoint of a run. */
export interface StepCheckpoint {
  /** `name#n` */
  key: string;
  /** Call order within the run. */
  seq: number;
  name: string;
  status: StepStatus;
  output: unknown;
  error: unknown;
  attempts: number;
  startedAt: Date;
  finishedAt: Date;
  /** A durable sleep's wake time, an event wait's deadline, a retrying step's next attempt; else null. */
  wakeAt: Date | null;
}

/** An event sent to a run, as stored. */
export interface RunEvent {
  /** Increasing in the order events were stored. */
  id: string;
  name: string;
  payload: unknown;
  createdAt: Date;
  /** The key of the `waitForEvent()` call that took it (`zart.event:<name>#n`), or null while buffered. */
  consumedBy: string | null;
}

/** Filters of `listRuns()`. */
export interface ListRunsOptions {
  workflow?: string | undefined;
  status?: RunStatus | RunStatus[] | undefined;
  /** Only runs of this queue. */
  queue?: string | undefined;
  /** Only the children of this run. */
  parentId?: string | undefined;
  /** Only runs whose id starts with this text. */
  idPrefix?: string | undefined;
  /** Only runs created at or after this time. */
  createdAfter?: Date | undefined;
  /** Only runs created before this time. */
  createdBefore?: Date | undefined;
  /** At most this many runs, newest first. Default 100, at most 1000. */
  limit?: number | undefined;
  /** Only runs created before the run with this id (keyset pagination). */
  after?: string | undefined;
  /**
   * Only unfinished runs whose code version no live worker serves (its own version or one it
   * declares in `compatibleVersions`): they wait until such a worker starts or `moveRun()`.
   */
  unserved?: boolean | undefined;
}

/** A live worker process. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  /** The zart version it runs. */
  version: string;
  startedAt: Date;
  heartbeatAt: Date;
}

/** Options of `deleteFinishedRuns()`. */
export interface DeleteFinishedRunsOptions {
  /** Delete runs that finished longer ago than this, e.g. `'30d'`. */
  olderThan: Duration;
  /** Runs deleted per statement. Default 1,000. */
  batchSize?: number | undefined;
}
