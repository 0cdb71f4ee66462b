// The durable functions a workflow calls between steps: sleep(), waitForEvent(), startChild(),
// startChildren(), now(), randomUUID() and patched(). They read the current run from the run
// context; outside a workflow they throw NotInWorkflowError.
import { checkEventName, checkPatchId, checkRunId } from '../storage/identifiers';
import { randomUUID as uuid } from 'node:crypto';
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError, NotInWorkflowError } from '../errors';
import type { WorkflowClass, WorkflowInput, WorkflowOutput, WorkflowStartArguments } from '../registry/declarations';
import { showValue } from '../options/show-value';
import { checkCallOptions } from '../options/resolve-options';
import { currentFrame, type RunScope } from './run-context';

function runOf(fn: string): RunScope {
  const frame = currentFrame();
  if (!frame) throw new NotInWorkflowError(fn);
  if (frame.step) {
    throw new ConfigurationError(
      `${fn}() cannot be called inside step "${frame.step.key}": call it in the workflow's run(), between steps.`,
    );
  }
  return frame.run;
}

/**
 * Sleeps durably: the wake time is stored once, so a crash or a redeploy does not restart the
 * wait. Short sleeps hold the worker; long ones (worker option `maxInProcessWait`) release it.
 */
export async function sleep(duration: Duration): Promise<void> {
  const run = runOf('sleep');
  return run.sleep(parseDuration(duration, 'sleep(duration)'));
}

/** Options of `waitForEvent()`. */
export interface WaitForEventOptions {
  /** Throw WaitTimeoutError when no event came within this long. Default: wait as long as it takes. */
  timeout?: Duration | undefined;
}

/**
 * Waits durably for the next event `name` sent to this run with `sendEvent(runId, name, payload)`
 * and returns its payload. An event sent before the wait is buffered; the k-th wait for a name
 * takes the k-th event, exactly once, also across replays. The run holds no worker meanwhile.
 */
export async function waitForEvent<T = unknown>(name: string, options: WaitForEventOptions = {}): Promise<T> {
  const run = runOf('waitForEvent');
  checkEventName(name, 'waitForEvent(name)');
  checkCallOptions(options, 'waitForEvent(name, options)', "{ timeout: '1h' }");
  const timeoutMs = options.timeout === undefined ? null : parseDuration(options.timeout, 'waitForEvent({ timeout })');
  return (await run.waitForEvent(name, timeoutMs)) as T;
}

/** Options of `startChild()`. */
export interface StartChildOptions {
  /** The child's run id. Default: derived from the parent's id and the call, the same on every replay. */
  id?: string | undefined;
  /**
   * The child's queue instead of its workflow's `@Workflow({ queue })`. A queue this process does
   * not know throws UnknownQueueError into the workflow (no child is started).
   */
  queue?: string | undefined;
}

/** A child run started with `startChild()`. */
export interface ChildHandle<TOutput> {
  readonly id: string;
  /**
   * A durable wait for the child's output: the parent holds no worker meanwhile. Rejects with
   * WorkflowFailedError or WorkflowCancelledError when the child fails or is cancelled.
   */
  result(): Promise<TOutput>;
}

/**
 * Starts a child run exactly once (a replay gets the same child), with the input validated like
 * startWorkflow's. Cancelling the parent cancels its children.
 */
export async function startChild<W extends WorkflowClass<never, unknown>>(
  workflow: W,
  ...[input, options = {}]: WorkflowStartArguments<W, StartChildOptions>
): Promise<ChildHandle<WorkflowOutput<W>>> {
  const run = runOf('startChild');
  checkCallOptions(options, 'startChild(workflow, input, options)', "{ id: 'child-1' }");
  if (options.id !== undefined) checkRunId(options.id, 'startChild({ id })');
  const id = await run.startChild(workflow, input, options.id, options.queue);
  return {
    id,
    result: async () => (await runOf('result').awaitChild(id)) as WorkflowOutput<W>,
  };
}

/** Options of `startChildren()`. */
export interface StartChildrenOptions {
  /**
   * One run id per input, in input order. Default: derived from the parent's id and the call
   * (`<parent id>/zart.children#<n>/<index>`), the same on every replay.
   */
  ids?: readonly string[] | undefined;
}

/** A batch of child runs started with `startChildren()`. */
export interface ChildBatch<TOutput> {
  /** The children's run ids, in input order. */
  readonly ids: readonly string[];
  /**
   * A durable wait for every child of the batch: their outputs, in input order. The parent holds
   * no worker meanwhile and is woken once, by the last child to finish. If a child failed or was
   * cancelled, rejects (once every child has finished) with the WorkflowFailedError or
   * WorkflowCancelledError of the first such child in input order.
   */
  results(): Promise<Array<TOutput>>;
}

/**
 * Starts one child run per input, all in one durable call: one statement inserts every child and
 * the checkpoint of the batch, so the batch is started exactly once, whole, however often this run
 * is replayed or its process dies. Each input is validated like startWorkflow's. For fan-outs of
 * hundreds or thousands of children, where startChild() costs a statement per child and
 * awaiting each child's result() a wake-up of the parent per child.
 */
export async function startChildren<W extends WorkflowClass<never, unknown>>(
  workflow: W,
  inputs: ReadonlyArray<WorkflowInput<W>>,
  options: StartChildrenOptions = {},
): Promise<ChildBatch<WorkflowOutput<W>>> {
  const run = runOf('startChildren');
  const where = 'startChildren(workflow, inputs, options)';
  if (!Array.isArray(inputs)) {
    throw new ConfigurationError(
      `${where}: inputs must be an array with one input per child, got ${showValue(inputs)}.`,
    );
  }
  checkCallOptions(options, where, "{ ids: ['child-1', 'child-2'] }");
  const ids = options.ids === undefined ? undefined : checkChildIds(options.ids, inputs.length);
  const batch = await run.startChildren(workflow, inputs, ids);
  return {
    ids: batch.ids,
    results: async () => (await runOf('results').awaitChildren(batch)) as Array<WorkflowOutput<W>>,
  };
}

function checkChildIds(ids: unknown, count: number): readonly string[] {
  if (!Array.isArray(ids) || ids.length !== count) {
    throw new ConfigurationError(
      `startChildren({ ids }): ids must be an array with one id per input (${count}), got ${showValue(ids)}. Pass one id per input, or leave ids out.`,
    );
  }
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    checkRunId(id, `startChildren({ ids }) at index ${i}`);
    if (seen.has(id)) {
      throw new ConfigurationError(`startChildren({ ids }): id "${id}" appears twice; every child needs its own id.`);
    }
    seen.add(id);
  }
  return ids as string[];
}

/**
 * The current time, checkpointed: a replay sees the time the first execution saw. In a run a
 * schedule started, the first call returns the tick's time (`currentRun().scheduledAt`), so a
 * run that fires late or catches up still computes with the time it was due.
 */
export async function now(): Promise<Date> {
  const run = runOf('now');
  const time = run.timeForNow();
  return run.callStep('zart.now', () => time);
}

/** A random UUID, checkpointed: a replay sees the same UUID. */
export async function randomUUID(): Promise<string> {
  return runOf('randomUUID').callStep('zart.randomUUID', () => uuid());
}

/**
 * Whether this run takes the branch of a code change named `id`: true for runs that reach this
 * point for the first time on code that has it, false for runs whose history goes on past this
 * point (started on the code before the change), so each replays the calls it recorded. Decided
 * once per run and stored: a run that got true gets true on every replay, on any worker.
 *
 * ```ts
 * if (await patched('fraud-check')) await fraud.check(order); // new runs
 * await payments.charge(order);                               // every run
 * ```
 *
 * Once no run that took the old branch is left, replace the call by `deprecatePatch(id)` and keep
 * only the new branch; later, remove `deprecatePatch(id)` too (docs/versioning.md).
 */
export async function patched(id: string): Promise<boolean> {
  const run = runOf('patched');
  checkPatchId(id, 'patched(id)');
  return run.patched(id, false);
}

/**
 * The second step of a patch's lifecycle: the code keeps only the new branch of `patched(id)`.
 * Runs reaching this point for the first time still record the patch, so that workers with code
 * that still calls `patched(id)` replay them on the new branch during a rolling deploy.
 */
export async function deprecatePatch(id: string): Promise<void> {
  const run = runOf('deprecatePatch');
  checkPatchId(id, 'deprecatePatch(id)');
  await run.patched(id, true);
}
