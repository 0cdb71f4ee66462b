// Group commit of one-row writes from concurrent callers (run starts, run finishes): a write goes
// out at once when a connection slot is free; writes arriving meanwhile go out together as one
// multi-row statement, and each caller gets the answer for its own row. Checkpoints have their own
// writer (checkpoint-writer.ts), which also stops retrying a stopped run's write.

interface PendingRow<Row, Answer> {
  row: Row;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

// As for checkpoints: two statements in flight, one batch fills while the other commits.
const slots = 2;
// Bounds one statement's size (a handful of arrays of this length).
const maxBatch = 500;

/** @internal */
export class GroupCommit<Row, Answer> {
  private queue: Array<PendingRow<Row, Answer>> = [];
  private inFlight = 0;

  /** `send` writes the rows in one statement and answers for each, in the order given. */
  constructor(private readonly send: (rows: readonly Row[]) => Promise<Answer[]>) {}

  /** Resolves with this row's answer once its statement has committed. */
  write(row: Row): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < slots && this.queue.length > 0) {
      const batch = this.queue.splice(0, maxBatch);
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async sendBatch(batch: Array<PendingRow<Row, Answer>>): Promise<void> {
    try {
      const answers = await this.send(batch.map((pending) => pending.row));
      batch.forEach((pending, i) => pending.resolve(answers[i]!));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }
}
