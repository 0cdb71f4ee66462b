// Group commit of checkpoints (group-commit.ts): the checkpoints of concurrent runs of one process
// share one multi-row, fenced statement. Each caller resumes only when its own row is committed,
// and a row whose lease is gone fails only its own caller. Connection failures are retried until
// the write's run stops here.
import { LeaseLostError } from '../errors';
import { performance } from 'node:perf_hooks';
import type { ZartLogger } from '../logging/zart-logger';
import type { ZartMetrics } from '../observability/zart-metrics';
import { GroupCommit, RowRefused } from './group-commit';
import { retryOnDisconnect } from './reconnect';
import { insertCheckpoint, type LeasedCheckpoint } from './sql/insert-checkpoint';
import { insertCheckpoints } from './sql/insert-checkpoints';
import type { ZartDatabase } from './zart-database';

interface PendingWrite {
  row: LeasedCheckpoint;
  /** Aborted when the run stops on this worker: stop retrying its write. */
  signal: AbortSignal;
}

/** @internal */
export class CheckpointWriter {
  private readonly commits: GroupCommit<PendingWrite, undefined>;

  constructor(
    private readonly db: ZartDatabase,
    private readonly logger: ZartLogger,
    private readonly metrics?: ZartMetrics | undefined,
  ) {
    this.commits = new GroupCommit((writes) => this.send(writes));
  }

  /** Resolves once the checkpoint is committed; LeaseLostError if the run's lease is gone. */
  write(row: LeasedCheckpoint, signal: AbortSignal): Promise<void> {
    const { metrics } = this;
    if (!metrics) return this.commits.write({ row, signal });
    // Timed only with metrics on: from the ask to the commit, so group commit's wait counts.
    const askedAt = performance.now();
    return this.commits
      .write({ row, signal })
      .then(() => metrics.checkpointWritten((performance.now() - askedAt) / 1000));
  }

  private async send(batch: readonly PendingWrite[]): Promise<Array<undefined | RowRefused>> {
    // A run that stopped before its row went out gets the reason it stopped.
    const stoppedBefore = batch.map((write) =>
      write.signal.aborted ? new RowRefused(write.signal.reason) : undefined,
    );
    const live = batch.filter((_, i) => !stoppedBefore[i]);
    if (live.length === 0) return stoppedBefore;
    this.metrics?.checkpointBatchSent(live.length);
    const answer = (each: (write: PendingWrite) => undefined | RowRefused) =>
      batch.map((write, i) => stoppedBefore[i] ?? each(write));
    try {
      if (live.length === 1) {
        const [write] = live as [PendingWrite];
        await retryOnDisconnect(
          () => insertCheckpoint(this.db, write.row),
          write.signal,
          (error, attempt) => this.logRetry(error, attempt),
        );
        return answer(() => undefined);
      }
      const written = await this.insertBatch(live);
      return answer(({ row: { lease, checkpoint } }) =>
        written.has(`${lease.runId}/${checkpoint.key}`) ? undefined : new RowRefused(new LeaseLostError(lease.runId)),
      );
    } catch (error) {
      return answer(() => new RowRefused(error));
    }
  }

  // A batch retries across disconnects until every run in it has stopped here. The signal for
  // that is made only when a retry is needed: a listener per row cost more than the row.
  private async insertBatch(live: readonly PendingWrite[]): Promise<Set<string>> {
    let allStopped: AbortController | undefined;
    const onAbort = (): void => {
      if (live.every((write) => write.signal.aborted)) allStopped!.abort();
    };
    const stopped = (): AbortSignal => {
      allStopped = new AbortController();
      for (const write of live) write.signal.addEventListener('abort', onAbort, { once: true });
      onAbort();
      return allStopped.signal;
    };
    try {
      return await retryOnDisconnect(
        () =>
          insertCheckpoints(
            this.db,
            live.map((write) => write.row),
          ),
        stopped,
        (error, attempt) => this.logRetry(error, attempt),
      );
    } finally {
      if (allStopped) for (const write of live) write.signal.removeEventListener('abort', onAbort);
    }
  }

  private logRetry(error: unknown, attempt: number): void {
    const message = error instanceof Error ? error.message : String(error);
    if (attempt === 1 || attempt % 10 === 0) {
      this.logger.warn('writing checkpoints failed on the connection; retrying', { attempt, error: message });
    }
  }
}
