// The group commit of run finishes (storage/sql/finish-runs.ts), and of the looks at a batch's
// parent that a finish asks for once it committed: a look rides with the next finishes sent, or goes
// alone when none is waiting, so children finishing side by side cost no statement of their own.
import { GroupCommit } from './group-commit';
import { retryOnDisconnect } from './reconnect';
import { finishRuns, type BatchLook, type FinishingRun } from './sql/finish-runs';
import type { ZartDatabase } from './zart-database';

type Write = { finish: FinishingRun } | { look: BatchLook };

// A finish's answer: whether it was written, and the look it asked for (settled once that is sent).
interface Answer {
  written: boolean;
  looked?: Promise<void>;
}

/** @internal */
export class FinishWriter {
  private readonly commits: GroupCommit<Write, Answer>;

  constructor(private readonly db: ZartDatabase) {
    this.commits = new GroupCommit((writes) => this.send(writes));
  }

  /**
   * Resolves with whether the outcome was written (false: the lease was lost), once it committed
   * and the look at its batch's parent it asked for, if any, was made.
   */
  async write(run: FinishingRun): Promise<boolean> {
    const { written, looked } = await this.commits.write({ finish: run });
    await looked;
    return written;
  }

  private async send(writes: readonly Write[]): Promise<Answer[]> {
    const runs = writes.flatMap((w) => ('finish' in w ? [w.finish] : []));
    const looks = writes.flatMap((w) => ('look' in w ? [w.look] : []));
    // Retried across disconnects until written or refused, never given up: the runs' outcomes
    // would be lost until their leases expired. Looks are made again as often as asked.
    const never = new AbortController().signal;
    const { written, lookAgain } = await retryOnDisconnect(() => finishRuns(this.db, runs, looks), never);
    // Queued only now, after the commit, so whichever statement takes them sees it.
    const looked = new Map<string, Promise<void>>();
    for (const { parentId, batchKey, finishedChild } of lookAgain) {
      const run = runs.find((r) => r.lease.runId === finishedChild);
      const look = this.commits.write({ look: { parentId, batchKey } }).then(
        () => undefined,
        // Loses nothing the runs need: the parked parent looks again by itself (every 5 s). Not
        // thrown: the finish committed, and a retry would find it done and answer the lease lost.
        (error: unknown) => run?.onWakeFailure?.(error),
      );
      looked.set(finishedChild, look);
    }
    let finish = 0;
    return writes.map((w) => {
      if (!('finish' in w)) return { written: true };
      const i = finish++;
      return { written: written[i]!, looked: written[i] ? looked.get(w.finish.lease.runId) : undefined };
    });
  }
}
