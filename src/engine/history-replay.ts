// Replays an exported history (client/run-history.ts) against the workflow code of this process,
// in memory: every durable call is answered from the history and checked like a worker's replay
// (call-sequence.ts, argument hashes), no step body runs, nothing is written. A call the history
// does not have yet is where the recorded run stopped: that branch of run() waits there forever.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { contextStorage, type RunScope, type StartedChildBatch, type StepPolicy } from '../context/run-context';
import { NonDeterminismError } from '../errors';
import type { AnyClass } from '../registry/declarations';
import type { WorkflowRegistry, RegisteredWorkflow } from '../registry/workflow-registry';
import type { RunHistory, RunHistoryCall } from '../client/run-history';
import type { ValueSerializer } from '../serialization/value-serializer';
import { hashArguments } from './argument-hash';
import {
  CallSequence,
  childBatchName,
  childBatchResultsPrefix,
  describeCall,
  patchMarkerPrefix,
  type CallPosition,
} from './call-sequence';
import { CompletionOrder } from './completion-order';

/** @internal How a replay of a history ended. */
export interface HistoryReplayEnd {
  /** The first divergence, or null when the code replays the whole history. */
  divergence: NonDeterminismError | null;
  /** `completed`/`failed`: run() settled; `incomplete`: it reached the end of the history and waits there. */
  outcome: 'completed' | 'failed' | 'incomplete';
  /** run()'s result (completed) or error (failed). */
  result: unknown;
  /** Durable calls answered from the history. */
  replayedCalls: number;
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** @internal */
export class HistoryReplay implements RunScope {
  readonly id: string;
  readonly workflow: string;
  readonly attempt: number;
  readonly parentId = null;
  // Nothing executes in a replay of a history: now() returns what the history stored.
  readonly scheduledAt = null;
  readonly signal = new AbortController().signal;
  private readonly sequence: CallSequence;
  /** Answers concurrent calls in the order the history recorded they completed in, as a worker does. */
  private readonly completion: CompletionOrder;
  /** The call the durable function being entered made. */
  private made: CallPosition | undefined;
  private readonly calls: Map<string, RunHistoryCall>;
  private readonly patches = new Map<string, boolean>();
  private inFlight = 0;
  private madeCalls = 0;
  private replayed = 0;
  private divergence: NonDeterminismError | null = null;
  private reachedEnd = false;
  /** Set when the replay has its answer: the watch for quiet ends. */
  private over = false;
  private readonly settled: Promise<void>;
  private settle: () => void = () => undefined;

  constructor(
    history: RunHistory,
    private readonly definition: RegisteredWorkflow,
    private readonly registry: WorkflowRegistry,
    private readonly serializer: ValueSerializer,
  ) {
    this.id = history.run.id;
    this.workflow = definition.name;
    this.attempt = history.run.attempt;
    this.calls = new Map(history.calls.map((call) => [call.key, call]));
    this.sequence = new CallSequence(this.id, history.calls);
    // Times as absolute milliseconds: the order only compares them with each other.
    const timed = history.calls.map((call) => ({
      ...call,
      wakeInMs: call.wakeAt ? Date.parse(call.wakeAt) : null,
      finishedInMs: call.finishedAt ? Date.parse(call.finishedAt) : null,
    }));
    this.completion = new CompletionOrder(timed, () => this.sequence.relax());
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
  }

  async replay(instance: { run(input: unknown): unknown }, input: unknown): Promise<HistoryReplayEnd> {
    let outcome: HistoryReplayEnd['outcome'] = 'incomplete';
    let result: unknown;
    const running = Promise.resolve(contextStorage().run({ run: this }, () => instance.run(input))).then(
      (value) => {
        outcome = 'completed';
        result = value;
        try {
          if (!this.divergence) this.sequence.checkFinished();
        } catch (error) {
          this.divergence = error as NonDeterminismError;
        }
      },
      (error: unknown) => {
        outcome = 'failed';
        result = error;
      },
    );
    await Promise.race([running, this.settled, this.quiet()]);
    this.over = true;
    const divergence = this.divergence;
    return { divergence, outcome: divergence ? 'failed' : outcome, result, replayedCalls: this.replayed };
  }

  // Resolves once run() has reached the end of the history and no branch makes calls any more.
  private async quiet(): Promise<void> {
    for (;;) {
      const before = this.madeCalls;
      for (let turn = 0; turn < 5; turn++) await nextTurn();
      if (this.over || (this.reachedEnd && this.madeCalls === before && this.completion.idle)) return;
    }
  }

  private check<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (error instanceof NonDeterminismError) {
        this.divergence ??= error;
        this.settle();
      }
      throw error;
    }
  }

  private next(name: string): { key: string; recorded: RunHistoryCall | undefined } {
    this.madeCalls++;
    this.made = this.check(() => this.sequence.next(name, this.inFlight));
    const { key } = this.made;
    return { key, recorded: this.calls.get(key) };
  }

  // As a worker's execution does (run-execution.ts): each answer in its turn of the completion order.
  private async tracked<T>(call: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.made = undefined;
    try {
      // The callbacks below throw a stored failure synchronously (the executor runs at once, so
      // the call is still made here): it is delivered in its turn too.
      const settled = new Promise<T>((resolve) => resolve(call()));
      return await this.completion.inTurn(settled, this.made, () => this.inFlight > 1);
    } finally {
      this.inFlight--;
    }
  }

  // The end of the recorded history on this branch: the run had not got further.
  private end<T>(): Promise<T> {
    this.reachedEnd = true;
    return never<T>();
  }

  private outcome<T>(call: RunHistoryCall): T {
    this.replayed++;
    if (call.status === 'failed') throw this.serializer.deserialize(call.error ?? null);
    return (call.output === null ? undefined : this.serializer.deserialize(call.output)) as T;
  }

  private sameArguments(key: string, name: string, recorded: RunHistoryCall, argsHash: string | null): void {
    if (recorded.argsHash === null || argsHash === null || recorded.argsHash === argsHash) return;
    this.check(() => {
      throw new NonDeterminismError(
        this.id,
        key,
        `${describeCall(name)} with other arguments (hash ${recorded.argsHash!.slice(0, 12)})`,
        `${describeCall(name)} (arguments hash ${argsHash.slice(0, 12)})`,
      );
    });
  }

  callStep<T>(
    name: string,
    _body: () => T | Promise<T>,
    args?: readonly unknown[],
    _policy?: StepPolicy,
  ): Promise<Awaited<T>> {
    type Output = Awaited<T>;
    return this.tracked((): Promise<Output> => {
      const { key, recorded } = this.next(name);
      if (!recorded || recorded.status === 'retrying') return this.end<Output>();
      this.sameArguments(key, name, recorded, hashArguments(this.serializer, args));
      return Promise.resolve(this.outcome<Output>(recorded));
    });
  }

  sleep(_durationMs: number): Promise<void> {
    return this.tracked(async () => {
      const { recorded } = this.next('zart.sleep');
      if (!recorded) return this.end<void>();
      this.replayed++;
    });
  }

  waitForEvent(event: string, _timeoutMs: number | null): Promise<unknown> {
    return this.tracked(async () => {
      const { recorded } = this.next(`zart.event:${event}`);
      if (!recorded || recorded.status === 'waiting') return this.end<unknown>();
      return this.outcome<unknown>(recorded);
    });
  }

  // The child's queue is not part of the call's identity (see durable-waits.ts): not checked here.
  startChild(
    workflow: AnyClass | string,
    input: unknown,
    id: string | undefined,
    _queue: string | undefined,
  ): Promise<string> {
    return this.tracked(async () => {
      const definition = this.registry.get(workflow);
      const name = 'zart.child';
      const { key, recorded } = this.next(name);
      if (!recorded) return this.end<string>();
      this.sameArguments(key, name, recorded, hashArguments(this.serializer, [definition.name, input, id ?? null]));
      return this.outcome<string>(recorded);
    });
  }

  awaitChild(childId: string): Promise<unknown> {
    return this.tracked(async () => {
      const { recorded } = this.next(`zart.child-result:${childId}`);
      if (!recorded) return this.end<unknown>();
      return this.outcome<unknown>(recorded);
    });
  }

  startChildren(
    workflow: AnyClass | string,
    inputs: readonly unknown[],
    ids: readonly string[] | undefined,
  ): Promise<StartedChildBatch> {
    return this.tracked(async () => {
      const definition = this.registry.get(workflow);
      const { key, recorded } = this.next(childBatchName);
      if (!recorded) return this.end<StartedChildBatch>();
      const argsHash = hashArguments(this.serializer, [definition.name, inputs, ids ?? null]);
      this.sameArguments(key, childBatchName, recorded, argsHash);
      return { key, ids: this.outcome<string[]>(recorded) };
    });
  }

  awaitChildren(batch: StartedChildBatch): Promise<unknown[]> {
    return this.tracked(async () => {
      const { recorded } = this.next(`${childBatchResultsPrefix}${batch.key}`);
      if (!recorded) return this.end<unknown[]>();
      return this.outcome<unknown[]>(recorded);
    });
  }

  // As a worker decides it (run-execution.ts), without recording: at the end of the history the
  // new code's branch is the one a worker would take.
  async patched(id: string, deprecated: boolean): Promise<boolean> {
    await Promise.resolve();
    const decided = this.patches.get(id);
    if (decided !== undefined) return decided;
    const taken = this.calls.has(`${patchMarkerPrefix}${id}`) || !this.sequence.replayingPastHere ? true : deprecated;
    this.patches.set(id, taken);
    return taken;
  }

  timeForNow(): Date {
    return this.currentTime();
  }

  currentTime(): Date {
    return new Date();
  }
}
