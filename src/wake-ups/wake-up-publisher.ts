// Coalesces wake-ups: however many runs a process starts or hands back in one tick of the event
// loop, other workers get one NOTIFY. At shutdown the pending NOTIFY is sent before the pool
// closes, and nothing is sent after: a NOTIFY on a closed pool only logged a confusing warning.
import type { ZartLogger } from '../logging/zart-logger';
import { notifyWakeUp } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';

/** @internal */
export class WakeUpPublisher {
  private scheduled: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: ZartDatabase,
    private readonly logger: ZartLogger,
  ) {}

  /** Sends one NOTIFY at the end of this tick; resolves when it was sent (or failed, logged). */
  publish(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.scheduled = undefined;
      try {
        await notifyWakeUp(this.db);
      } catch (error) {
        // Polling still finds the runs; a lost notification only costs latency.
        this.logger.warn('sending a wake-up notification failed; workers find the runs at their next poll', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    return this.scheduled;
  }

  /** Waits for the pending NOTIFY, if any; later publish() calls send nothing. Call before closing the pool. */
  async close(): Promise<void> {
    this.closed = true;
    await this.scheduled;
  }
}
