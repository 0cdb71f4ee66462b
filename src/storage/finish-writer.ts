// The group commit of run finishes (storage/sql/finish-runs.ts), and of the looks at a batch's
// parent that a finish asks for once it committed: a look rides with the next finishes sent, or goes
// alone when none is waiting, so children finishing side by side cost no statement of their own.
import { GroupCommit } from './group-commit';
import { retryOnDisconnect } from './reconnect';
import { finishRuns, type BatchLook, type FinishingRun } from './sql/finish-runs';
import type { ZartDatabase } from './zart-database';

type Write = { finish: FinishingRun } | { look: BatchLook };

// Finishes are retried across disconnects until written or refused, never given up: the runs'
// outcomes would be lost until their leases expired. One signal that never aborts serves them all.
const never = new AbortController().signal;

/** @internal */
export class FinishWriter {
  private readonly commits: GroupCommit<Write, boolean>;
  private readonly looks = new Set<Promise<void>>();

  constructor(private readonly db: ZartDatabase) {
    this.commits = new GroupCommit((writes) => this.send(writes));
  }

  /**
   * Resolves with whether the outcome was written (false: the lease was lost) once it committed.
   * The look at its batch's parent it may ask for is made after that: the run's slot is not held
   * for it.
   */
  write(run: FinishingRun): Promise<boolean> {
    return this.commits.write({ finish: run });
  }

  /** Resolves once every look asked for so far was made: before the connection is closed. */
  async settled(): Promise<void> {
    while (this.looks.size > 0) await Promise.all(this.looks);
  }

  private async send(writes: readonly Write[]): Promise<boolean[]> {
    const runs = writes.flatMap((w) => ('finish' in w ? [w.finish] : []));
    const looks = writes.flatMap((w) => ('look' in w ? [w.look] : []));
    // Looks are made again as often as asked (see `never` above for the finishes).
    const { written, lookAgain } = await retryOnDisconnect(() => finishRuns(this.db, runs, looks), never);
    // Queued only now, after the commit, so whichever statement takes them sees it.
    for (const { parentId, batchKey, finishedChild } of lookAgain) {
      const run = runs.find((r) => r.lease.runId === finishedChild);
      const look: Promise<void> = this.commits.write({ look: { parentId, batchKey } }).then(
        () => undefined,
        // Loses nothing the runs need: the parked parent looks again by itself (every 5 s). Not
        // thrown: the finish committed, and a retry would find it done and answer the lease lost.
        (error: unknown) => run?.onWakeFailure?.(error),
      );
      this.looks.add(look);
      void look.finally(() => this.looks.delete(look));
    }
    let finish = 0;
    return writes.map((w) => ('finish' in w ? written[finish++]! : true));
  }
}
