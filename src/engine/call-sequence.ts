// The order of a run's durable calls (steps, waits, children, now(), randomUUID()) and the check of
// a replay against it. Each call gets a key (`name#n`) and a position (its index in call order),
// both taken synchronously when the call is made. A replay whose call at a position is not the call
// the history recorded there fails with NonDeterminismError, before anything of that call runs.
//
// A history that recorded the order its calls completed in (completion-order.ts) is replayed in
// that order, so concurrent branches make their calls in the same order as the first time: every
// position is checked. In older histories, positions are checked only while the run was sequential
// (sequential = true): from the first call made while another durable call of the run was in
// flight, the order of later calls depended on which call completed first, which such a replay
// does not reproduce; those calls are matched by key. The same holds from the point where an
// ordered replay had to give up its order (relax()).
import { NonDeterminismError } from '../errors';

/** A call of the history, as a replay checks it. */
export interface HistoryCall {
  key: string;
  name: string;
  seq: number;
  /** true: made with no other call in flight, ever before it; false: made concurrently; null: recorded before positions were. */
  sequential: boolean | null;
  /** Its checkpoint's status; absent where the history does not say. */
  status?: string;
  /** The order it completed in (completion-order.ts); null or absent when not final, or in older histories. */
  completionSeq?: number | null;
}

/** A call as the code makes it: its key, position, whether it was made alone, and once it has its outcome, its completion number. */
export interface CallPosition {
  key: string;
  seq: number;
  sequential: boolean;
  completionSeq: number | null;
}

/** Checkpoint names of a startChildren() call and of the wait for its batch (engine/child-batches.ts). */
export const childBatchName = 'zart.children';
export const childBatchResultsPrefix = 'zart.children-result:';

/** Names of `patched()` markers: they record a decision, not a call, and hold no position. */
export const patchMarkerPrefix = 'zart.patch:';

/** Whether a history recorded the order its calls completed in: every final checkpoint of a call has its number. */
export function recordsCompletionOrder(history: Iterable<HistoryCall>): boolean {
  for (const call of history) {
    if (call.name.startsWith(patchMarkerPrefix) || (call.status !== 'completed' && call.status !== 'failed')) continue;
    if (call.completionSeq === null || call.completionSeq === undefined) return false;
  }
  return true;
}

/** @internal */
export class CallSequence {
  private readonly callsPerName = new Map<string, number>();
  private nextSeq = 0;
  private concurrent = false;
  private readonly history = new Map<string, HistoryCall>();
  /** Checked calls of the history by position. */
  private readonly checked = new Map<number, HistoryCall>();
  /** Any call of the history by position, to name what the history has at a position. */
  private readonly anyAt = new Map<number, HistoryCall>();
  /** Keys of history calls the replay has made. */
  private readonly met = new Set<string>();
  /** The last position the history recorded a call at; -1 for none. */
  private readonly lastSeq: number;
  /** Every position is checked: the history is replayed in its completion order. */
  private ordered: boolean;

  constructor(
    private readonly runId: string,
    history: Iterable<HistoryCall>,
  ) {
    let last = -1;
    const calls = [...history];
    this.ordered = calls.length > 0 && recordsCompletionOrder(calls);
    for (const call of calls) {
      this.history.set(call.key, call);
      if (call.name.startsWith(patchMarkerPrefix)) continue;
      this.anyAt.set(call.seq, call);
      if (call.sequential === true || this.ordered) this.checked.set(call.seq, call);
      last = Math.max(last, call.seq);
    }
    this.lastSeq = last;
  }

  /**
   * The next call's key and position; `inFlight` counts the run's durable calls in flight,
   * this one included. Throws NonDeterminismError when the history has another call there.
   */
  next(name: string, inFlight: number): CallPosition {
    const n = this.callsPerName.get(name) ?? 0;
    this.callsPerName.set(name, n + 1);
    const key = `${name}#${n}`;
    const seq = this.nextSeq++;
    if (inFlight > 1) this.concurrent = true;
    const sequential = !this.concurrent;
    if (this.history.size === 0) return { key, seq, sequential, completionSeq: null };

    const recorded = this.history.get(key);
    if (recorded) this.met.add(key);
    if (recorded && this.positionChecked(recorded)) {
      if (recorded.seq !== seq) this.diverged(key, seq, name);
    } else if (!recorded) {
      const there = this.checked.get(seq);
      if (there && this.positionChecked(there)) this.diverged(key, seq, name);
    }
    return { key, seq, sequential, completionSeq: null };
  }

  private positionChecked(call: HistoryCall): boolean {
    return this.ordered || call.sequential === true;
  }

  /**
   * The replay could not keep the history's completion order: from here on, calls are matched by
   * key as in older histories, but every call of the history must still be made.
   */
  relax(): void {
    this.ordered = false;
  }

  /** Whether the history recorded calls at or after the next position: the run is replaying there. */
  get replayingPastHere(): boolean {
    return this.lastSeq >= this.nextSeq;
  }

  /** The next position, for a marker recorded here. */
  get position(): number {
    return this.nextSeq;
  }

  /** The stored marker or call under `key`, if the history has one. */
  recorded(key: string): HistoryCall | undefined {
    return this.history.get(key);
  }

  /**
   * When run() returned: throws NonDeterminismError if the history has a checked call (in an
   * ordered history: any call) the replay never made (a removed call, or code that now returns earlier).
   */
  checkFinished(): void {
    for (const [seq, call] of [...this.checked].sort(([a], [b]) => a - b)) {
      if (this.met.has(call.key)) continue;
      throw new NonDeterminismError(this.runId, call.key, describeCall(call.name), 'the end of run()', seq);
    }
  }

  private diverged(key: string, seq: number, name: string): never {
    const there = this.anyAt.get(seq);
    const expected = there ? describeCall(there.name) : 'no call';
    const recorded = this.history.get(key);
    const actual =
      recorded && recorded.seq !== seq
        ? `${describeCall(name)} (recorded at call ${recorded.seq})`
        : `${describeCall(name)}${recorded ? '' : ', which the history does not have'}`;
    throw new NonDeterminismError(this.runId, key, expected, actual, seq);
  }
}

/** A durable call as people read it, from the name its checkpoint is stored under. */
export function describeCall(name: string): string {
  if (name === 'zart.sleep') return 'a durable sleep';
  if (name === 'zart.child') return 'a startChild() call';
  if (name === childBatchName) return 'a startChildren() call';
  if (name === 'zart.now') return 'a now() call';
  if (name === 'zart.randomUUID') return 'a randomUUID() call';
  if (name.startsWith('zart.event:')) return `a wait for event "${name.slice('zart.event:'.length)}"`;
  if (name.startsWith('zart.child-result:')) return `a wait for child "${name.slice('zart.child-result:'.length)}"`;
  if (name.startsWith(childBatchResultsPrefix))
    return `a wait for the children of batch "${name.slice(childBatchResultsPrefix.length)}"`;
  if (name.startsWith(patchMarkerPrefix)) return `patch "${name.slice(patchMarkerPrefix.length)}"`;
  return `a call of step "${name}"`;
}
