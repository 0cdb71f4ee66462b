// replayHistory(): the check to run in CI before deploying changed workflow code. It replays runs
// exported from production (`exportRun()`, `zart runs export <id> --json`) against the code under
// test, without a database and without executing any step, and reports the first divergence.
import type { RunHistory } from '../client/run-history';
import { HistoryReplay } from '../engine/history-replay';
import { resolveWorkflowInstance } from '../engine/workflow-instance';
import { ConfigurationError, NonDeterminismError } from '../errors';
import type { WorkflowResolver } from '../options/resolve-options';
import type { WorkflowClass } from '../registry/declarations';
import { instantiateInput } from '../registry/prepare-input';
import { WorkflowRegistry } from '../registry/workflow-registry';
import { DefaultSerializer, type ErrorClass, type Serializer } from '../serialization/serializer';
import { ValueSerializer } from '../serialization/value-serializer';

/** Options of `replayHistory()`: those of the `Zart` whose runs were exported, where they matter. */
export interface ReplayHistoryOptions {
  /** The serializer the runs were recorded with. Default: zart's. */
  serializer?: Serializer | undefined;
  /** Error classes to rehydrate stored failures as (the `errorClasses` option of Zart). */
  errorClasses?: readonly ErrorClass[] | undefined;
  /** How to build the workflow instance. Default: `new WorkflowClass()`. */
  resolve?: WorkflowResolver | undefined;
}

/** Where the code diverged from the history. */
export interface ReplayDivergence {
  /** Position in the run's call order, or null when the call matched but its arguments did not. */
  position: number | null;
  /** The key of the diverging call. */
  stepKey: string;
  /** What the history recorded. */
  expected: string;
  /** What the code did. */
  actual: string;
  /** The NonDeterminismError a worker would fail the run with. */
  error: NonDeterminismError;
}

/** What `replayHistory()` found. */
export interface ReplayReport {
  /** True when the code replays the whole history: safe to deploy for this run. */
  ok: boolean;
  runId: string;
  workflow: string;
  divergence: ReplayDivergence | null;
  /**
   * How run() ended: `completed` or `failed` (its own error; a run whose history ends in a
   * failure replays it), or `incomplete`: it reached the end of the history, where the recorded
   * run was (waiting, or still running).
   */
  outcome: 'completed' | 'failed' | 'incomplete';
  /** The durable calls answered from the history. */
  replayedCalls: number;
}

/**
 * Replays an exported run history against `workflow` as the code of this process has it: every
 * durable call is answered from the history, none executes. Reports the first divergence a worker
 * would fail the run with (a call at another position, other arguments, calls left unmade).
 */
export async function replayHistory(
  history: RunHistory | string,
  workflow: WorkflowClass<never, unknown>,
  options: ReplayHistoryOptions = {},
): Promise<ReplayReport> {
  const parsed = parseHistory(history);
  const registry = WorkflowRegistry.compile();
  const definition = registry.get(workflow);
  const serializer = new ValueSerializer(options.serializer ?? new DefaultSerializer(options.errorClasses ?? []), {
    maxValueBytes: Number.MAX_SAFE_INTEGER,
    largeValues: null,
  });
  if (parsed.run.workflow !== definition.name) {
    throw new ConfigurationError(
      `replayHistory(): the history is of workflow "${parsed.run.workflow}", not "${definition.name}". Pass the class of that workflow.`,
    );
  }
  const input = instantiateInput(
    definition,
    parsed.run.input === null ? undefined : serializer.deserialize(parsed.run.input),
  );
  const resolve = options.resolve ?? ((cls) => new (cls as unknown as new () => object)());
  const instance = await resolveWorkflowInstance(resolve, definition.target);
  const end = await new HistoryReplay(parsed, definition, registry, serializer).replay(instance, input);
  const { divergence } = end;
  return {
    ok: divergence === null,
    runId: parsed.run.id,
    workflow: definition.name,
    divergence: divergence && {
      position: divergence.position,
      stepKey: divergence.stepKey,
      expected: divergence.expected,
      actual: divergence.actual,
      error: divergence,
    },
    outcome: end.outcome,
    replayedCalls: end.replayedCalls,
  };
}

function parseHistory(history: RunHistory | string): RunHistory {
  let parsed: unknown = history;
  if (typeof history === 'string') {
    try {
      parsed = JSON.parse(history);
    } catch (error) {
      throw new ConfigurationError(`replayHistory(): the history is not JSON (${(error as Error).message}).`);
    }
  }
  const candidate = parsed as Partial<RunHistory> | null;
  if (candidate?.format !== 'zart.run-history/1' || !Array.isArray(candidate.calls) || !candidate.run) {
    throw new ConfigurationError(
      'replayHistory(): this is not a run history. Pass what exportRun(id) returns, or the output of `zart runs export <id> --json`.',
    );
  }
  return candidate as RunHistory;
}
