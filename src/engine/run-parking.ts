// Decides when a run parks. A run parks only once every durable call in flight is a wait, and
// then on all of those waits at once: Promise.race([waitForEvent('approved'), sleep('1d')]) wakes
// at whichever comes first, and Promise.all over child results wakes when any child finishes.

/** One durable wait in flight. */
export interface PendingWait {
  /** Its checkpoint key: the wake time stored there (a sleep, a back-off, an event timeout) bounds the wait. */
  readonly key: string;
  /** What the wait is for, as recorded on the parked run: 'sleep', 'retry', 'event:<name>', 'child:<id>', 'children:<batch key>'. */
  readonly waitingFor: string;
  /** The event whose arrival ends the wait. */
  readonly event?: string;
  /** The child whose finish ends the wait. */
  readonly childId?: string;
  /** The batch of children (startChildren's checkpoint key) whose last finish ends the wait. */
  readonly batchKey?: string;
  /** Milliseconds to its wake time; Infinity when only an event or a child ends it. */
  readonly wakeInMs: number;
  /** A wait that should look again after this long even if nothing wakes it. */
  readonly recheckMs?: number;
  /** A short wait this worker sits out itself: it never parks the run alone. */
  readonly inProcess: boolean;
}

/** @internal */
export class RunParking {
  private active = 0;
  private readonly waits = new Set<PendingWait>();
  private scheduled = false;
  /** 'closed': the execution is over here; 'parked': it is being parked. Either way, no park after. */
  private state: 'open' | 'closed' | 'parked' = 'open';

  /** `park` is called once, with every wait in flight, when the run should park. */
  constructor(private readonly park: (waits: PendingWait[]) => void) {}

  /** A durable call (step, wait, child start) begins. */
  enter(): void {
    this.active++;
  }

  /** A durable call ended: if only waits are left in flight, the run may park. */
  leave(): void {
    this.active--;
    if (this.waits.size > 0) this.schedule();
  }

  /** The call in flight is now waiting: it no longer counts as active until `unblock`. */
  block(wait: PendingWait): void {
    this.waits.add(wait);
    this.active--;
    this.schedule();
  }

  /** An in-process wait is over (or the run is being stopped): the call is active again. */
  unblock(wait: PendingWait): void {
    this.waits.delete(wait);
    this.active++;
  }

  /** The run's execution is over here: it never parks from now on. */
  close(): void {
    if (this.state === 'open') this.state = 'closed';
  }

  /**
   * Whether the run is being parked. An in-process wait that ends now must not go on: the run
   * is already claimable again, and a step it started would run beside the next execution.
   */
  get parked(): boolean {
    return this.state === 'parked';
  }

  // Decided after the current turn's promise callbacks, so workflow code that goes on from a
  // settled call (the winner of a race) issues its next durable call first and keeps the run here.
  private schedule(): void {
    if (this.scheduled || this.state !== 'open') return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.state !== 'open' || this.active > 0) return;
      const waits = [...this.waits];
      if (!waits.some((wait) => !wait.inProcess)) return;
      this.state = 'parked';
      this.park(waits);
    });
  }
}
