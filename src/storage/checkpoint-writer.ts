// Group commit of checkpoints: concurrent runs of one process share round trips. A write goes out
// at once when a connection slot is free; writes arriving meanwhile are sent together as one
// multi-row, fenced statement. Each caller resumes only when its own row is committed, and a row
// whose lease is gone fails only its own caller. Connection failures are retried.
import { LeaseLostError } from '../errors';
import { performance } from 'node:perf_hooks';
import type { ZartLogger } from '../logging/zart-logger';
import type { ZartMetrics } from '../observability/zart-metrics';
import { retryOnDisconnect } from './reconnect';
import { insertCheckpoint, type LeasedCheckpoint } from './sql/insert-checkpoint';
import { insertCheckpoints } from './sql/insert-checkpoints';
import type { ZartDatabase } from './zart-database';

interface PendingWrite {
  row: LeasedCheckpoint;
  /** Aborted when the run stops on this worker: stop retrying its write. */
  signal: AbortSignal;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Two statements in flight: one batch fills while the other commits. More slots split batches
// without saving commits; fewer serialise a lone run behind a full batch.
const slots = 2;
// Bounds one statement's size (11 arrays of this length).
const maxBatch = 500;

/** @internal */
export class CheckpointWriter {
  private queue: PendingWrite[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: ZartDatabase,
    private readonly logger: ZartLogger,
    private readonly metrics?: ZartMetrics | undefined,
  ) {}

  /** Resolves once the checkpoint is committed; LeaseLostError if the run's lease is gone. */
  write(row: LeasedCheckpoint, signal: AbortSignal): Promise<void> {
    const { metrics } = this;
    return new Promise<void>((resolve, reject) => {
      // Timed only with metrics on: from the ask to the commit, so group commit's wait counts.
      const askedAt = metrics ? performance.now() : 0;
      const written = metrics
        ? () => {
            metrics.checkpointWritten((performance.now() - askedAt) / 1000);
            resolve();
          }
        : resolve;
      this.queue.push({ row, signal, resolve: written, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < slots && this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async send(batch: PendingWrite[]): Promise<void> {
    const live = batch.filter((write) => {
      if (write.signal.aborted) write.reject(write.signal.reason);
      return !write.signal.aborted;
    });
    if (live.length === 0) return;
    this.metrics?.checkpointBatchSent(live.length);
    if (live.length === 1) return this.sendOne(live[0]!);
    // A batch retries across disconnects until every run in it has stopped here. The signal for
    // that is made only when a retry is needed: a listener per row cost more than the row.
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
      const written = await retryOnDisconnect(
        () =>
          insertCheckpoints(
            this.db,
            live.map((write) => write.row),
          ),
        stopped,
        (error, attempt) => this.logRetry(error, attempt),
      );
      for (const write of live) {
        const { lease, checkpoint } = write.row;
        if (written.has(`${lease.runId}/${checkpoint.key}`)) write.resolve();
        else write.reject(new LeaseLostError(lease.runId));
      }
    } catch (error) {
      for (const write of live) write.reject(error);
    } finally {
      if (allStopped) for (const write of live) write.signal.removeEventListener('abort', onAbort);
    }
  }

  private async sendOne(write: PendingWrite): Promise<void> {
    try {
      await retryOnDisconnect(
        () => insertCheckpoint(this.db, write.row),
        write.signal,
        (error, attempt) => this.logRetry(error, attempt),
      );
      write.resolve();
    } catch (error) {
      write.reject(error);
    }
  }

  private logRetry(error: unknown, attempt: number): void {
    const message = error instanceof Error ? error.message : String(error);
    if (attempt === 1 || attempt % 10 === 0) {
      this.logger.warn('writing checkpoints failed on the connection; retrying', { attempt, error: message });
    }
  }
}
