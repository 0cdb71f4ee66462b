// The order in which a run's durable calls complete: recorded on each final checkpoint (its
// completion number, taken when the row is built, so it travels in the same statement), and
// reproduced by every later execution. Calls made together (Promise.all, a race, a fan-out) make
// their next calls in the order they complete, and those next calls take keys (`name#n`) and
// positions in that order; a replay whose stored results all resolve at once would hand one
// branch another branch's result. So a stored result is delivered only in its recorded turn, and
// only after the continuations of the previous delivery have run (a setImmediate: microtasks
// drained), and live results are delivered in the order of their numbers the same way.
//
// Must never cost the hot path a timer: a call that was alone in flight all its life (recorded as
// such by the sequential flags) is delivered at once, as is every call of a sequential run.
import { patchMarkerPrefix, recordsCompletionOrder, type CallPosition, type HistoryCall } from './call-sequence';

/** A call of the history as the completion order reads it (worker replays know its times). */
export interface CompletedCall extends HistoryCall {
  /** Milliseconds until a sleep's stored wake time when the history was loaded; null/absent when unknown. */
  wakeInMs?: number | null;
  /** Milliseconds from the load back to when the checkpoint was written (negative); null/absent when unknown. */
  finishedInMs?: number | null;
}

function isFinal(call: HistoryCall): boolean {
  return call.status === 'completed' || call.status === 'failed';
}

type Deliver = () => void;

interface QueuedSleep {
  key: string;
  /** Infinity for a sleep the history has no wake time for (made in this execution). */
  wakeInMs: number;
  deliver: Deliver;
}

/** @internal */
export class CompletionOrder {
  /** Stored calls with a completion number, in completion order; `cursor` is the next to deliver. */
  private readonly recorded: CompletedCall[];
  private cursor = 0;
  private readonly history = new Map<string, CompletedCall>();
  /** Stored calls waiting for their turn, by key. */
  private readonly waiting = new Map<string, Deliver>();
  private readonly sleeps: QueuedSleep[] = [];
  /** Live calls that have a number and wait for a lower one, by number. */
  private readonly live = new Map<number, Deliver>();
  /** Numbers taken by live calls and not delivered yet. */
  private readonly held = new Set<number>();
  private nextNumber: number;
  /** Whether deliveries are ordered; false for older histories, and once relaxed. */
  private ordered: boolean;
  /** A delivery was made while other calls were in flight: the next waits for the turn to end. */
  private busy = false;
  private scheduled = false;
  private readonly hasConcurrent: boolean;
  private readonly lastSequentialSeq: number;

  constructor(
    history: Iterable<CompletedCall>,
    /** Called once if the order cannot be kept (the history's next completion is never made). */
    private readonly onRelaxed: (next: CompletedCall) => void,
  ) {
    const calls = [...history].filter((call) => !call.name.startsWith(patchMarkerPrefix));
    for (const call of calls) this.history.set(call.key, call);
    this.ordered = recordsCompletionOrder(calls);
    this.recorded = this.ordered
      ? calls.filter((call) => isFinal(call)).sort((a, b) => a.completionSeq! - b.completionSeq!)
      : [];
    this.nextNumber = calls.reduce((max, call) => Math.max(max, (call.completionSeq ?? -1) + 1), 0);
    this.hasConcurrent = calls.some((call) => call.sequential === false);
    this.lastSequentialSeq = calls.reduce(
      (max, call) => (call.sequential === true ? Math.max(max, call.seq) : max),
      -1,
    );
  }

  /** The call's completion number for its final checkpoint: taken once, kept for every rewrite of it. */
  complete(call: CallPosition): number {
    if (call.completionSeq === null) {
      call.completionSeq = this.nextNumber++;
      this.held.add(call.completionSeq);
    }
    return call.completionSeq;
  }

  /** The call took a number but wrote nothing with it (no event to consume): later ones need not wait. */
  release(call: CallPosition): void {
    if (call.completionSeq === null) return;
    this.held.delete(call.completionSeq);
    call.completionSeq = null;
    if (this.live.size > 0) this.schedule();
  }

  /**
   * The call has its outcome: undefined when it may be delivered now, else a promise that resolves
   * in its turn. `concurrent`: other durable calls of the run are in flight.
   */
  deliver(call: CallPosition, concurrent: boolean): Promise<void> | undefined {
    if (!this.ordered) {
      if (call.completionSeq !== null) this.held.delete(call.completionSeq);
      return undefined;
    }
    const stored = this.history.get(call.key);
    if (stored && isFinal(stored)) return this.deliverStored(stored);
    if (call.completionSeq !== null) return this.deliverLive(call.completionSeq, concurrent);
    if (stored?.status === 'sleeping' || (!stored && call.key.startsWith('zart.sleep#')))
      return this.deliverSleep(call.key, stored, concurrent);
    // Nothing completed (the call failed before its outcome, or the execution stops).
    return undefined;
  }

  /**
   * A durable call's outcome, value or failure alike, handed on in its turn. `made`: the call it
   * made (none if it threw before making one); `concurrent()` is asked when the outcome is there.
   */
  inTurn<T>(settled: Promise<T>, made: CallPosition | undefined, concurrent: () => boolean): Promise<T> {
    // Chained by hand, not async/await: this runs once per durable call, and each await costs a
    // promise (bench W2 counted 37 promises per step before the step's path was trimmed).
    const turn = (): Promise<void> | undefined => (made ? this.deliver(made, concurrent()) : undefined);
    return settled.then(
      (value) => {
        const waiting = turn();
        return waiting ? waiting.then(() => value) : value;
      },
      (error: unknown) => {
        const waiting = turn();
        if (!waiting) throw error;
        return waiting.then(() => {
          throw error;
        });
      },
    );
  }

  /** Whether nothing waits for its turn. */
  get idle(): boolean {
    return this.waiting.size === 0 && this.sleeps.length === 0 && this.live.size === 0;
  }

  /** Delivers everything waiting and stops ordering (the execution stops, or the order cannot be kept). */
  relax(): void {
    this.ordered = false;
    const queued = [
      ...this.waiting.values(),
      ...this.sleeps.map((sleep) => sleep.deliver),
      ...[...this.live].sort(([a], [b]) => a - b).map(([, deliver]) => deliver),
    ];
    this.waiting.clear();
    this.sleeps.length = 0;
    this.live.clear();
    this.held.clear();
    for (const deliver of queued) deliver();
  }

  private get historyDelivered(): boolean {
    return this.cursor >= this.recorded.length;
  }

  // A call alone in flight all its life (a later call was made with nothing else in flight) has
  // no order to keep with any other: the hot path of a sequential replay.
  private alone(call: CompletedCall): boolean {
    return call.sequential === true && (!this.hasConcurrent || call.seq < this.lastSequentialSeq);
  }

  private deliverStored(call: CompletedCall): Promise<void> | undefined {
    if (this.alone(call) && !this.busy && this.recorded[this.cursor] === call) {
      this.cursor++;
      return undefined;
    }
    return this.enqueue((deliver) => this.waiting.set(call.key, deliver));
  }

  private deliverLive(number: number, concurrent: boolean): Promise<void> | undefined {
    if (this.historyDelivered && !this.busy && this.lowestHeld() === number) {
      this.held.delete(number);
      if (concurrent) this.endTurnFirst();
      return undefined;
    }
    return this.enqueue((deliver) => this.live.set(number, deliver));
  }

  private deliverSleep(key: string, stored: CompletedCall | undefined, concurrent: boolean): Promise<void> | undefined {
    if (stored && this.alone(stored) && !this.busy) return undefined;
    if (this.historyDelivered && !this.busy && this.live.size === 0) {
      if (concurrent) this.endTurnFirst();
      return undefined;
    }
    const wakeInMs = stored?.wakeInMs ?? Infinity;
    return this.enqueue((deliver) => this.sleeps.push({ key, wakeInMs, deliver }));
  }

  private enqueue(register: (deliver: Deliver) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      register(resolve);
      this.schedule();
    });
  }

  private lowestHeld(): number {
    let lowest = Infinity;
    for (const number of this.held) lowest = Math.min(lowest, number);
    return lowest;
  }

  // A delivery made now while other calls are in flight: the next one waits until its
  // continuations have run, as a replay's would.
  private endTurnFirst(): void {
    this.busy = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  // One delivery per turn, so the continuations of each run before the next is delivered.
  private turn(): void {
    this.scheduled = false;
    this.busy = false;
    if (!this.ordered) return;
    const delivered = this.historyDelivered ? this.deliverLiveTurn() : this.deliverHistoryTurn();
    if (delivered) this.endTurnFirst();
  }

  private deliverHistoryTurn(): boolean {
    const next = this.recorded[this.cursor]!;
    // A sleep that woke before the history's next call completed was delivered before it.
    const sleep = this.earliestSleep();
    if (sleep && sleep.wakeInMs <= (next.finishedInMs ?? -Infinity)) return this.deliverSleepTurn(sleep);
    const waiting = this.waiting.get(next.key);
    if (waiting) {
      this.waiting.delete(next.key);
      this.cursor++;
      waiting();
      return true;
    }
    // The continuations have run, yet the call that completed next in the history was not made
    // (code that awaits something else than durable calls, or changed code): keep no order.
    if (!this.idle) {
      this.onRelaxed(next);
      this.relax();
    }
    return false;
  }

  private deliverLiveTurn(): boolean {
    const sleep = this.earliestSleep();
    if (sleep) return this.deliverSleepTurn(sleep);
    const lowest = this.lowestHeld();
    const deliver = this.live.get(lowest);
    if (!deliver) return false;
    this.live.delete(lowest);
    this.held.delete(lowest);
    deliver();
    return true;
  }

  private earliestSleep(): QueuedSleep | undefined {
    let earliest: QueuedSleep | undefined;
    for (const sleep of this.sleeps) if (!earliest || sleep.wakeInMs < earliest.wakeInMs) earliest = sleep;
    return earliest;
  }

  private deliverSleepTurn(sleep: QueuedSleep): boolean {
    this.sleeps.splice(this.sleeps.indexOf(sleep), 1);
    sleep.deliver();
    return true;
  }
}
