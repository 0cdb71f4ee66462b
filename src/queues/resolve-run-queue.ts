// Checks the `queue` option of startWorkflow() and startChild(), which puts one run in another
// queue than its workflow's. Only a queue this process knows is accepted, so a misspelt name is an
// error at the call, with nothing written, rather than a run that no worker ever claims.
import { ConfigurationError, UnknownQueueError } from '../errors';
import { showValue } from '../options/show-value';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import type { ResolvedQueues } from './resolve-queue-options';

/**
 * @internal The queues a run may be started in from this process: `'default'`, every queue of
 * `new Zart({ queues })` and of `worker.queues`, and every registered workflow's own queue.
 */
export function knownQueues(
  queues: ResolvedQueues,
  served: readonly string[],
  registry: WorkflowRegistry,
): ReadonlySet<string> {
  return new Set(['default', ...queues.names, ...served, ...registry.workflows.map((workflow) => workflow.queue)]);
}

/** @internal The run's queue: `given` when it is a known queue, else the workflow's own. */
export function resolveRunQueue(
  given: unknown,
  workflowQueue: string,
  known: ReadonlySet<string>,
  where: string,
): string {
  if (given === undefined) return workflowQueue;
  if (typeof given !== 'string' || given.length === 0) {
    throw new ConfigurationError(`${where}: queue must be the non-empty name of a queue, got ${showValue(given)}.`);
  }
  if (!known.has(given)) throw new UnknownQueueError(given, [...known].sort());
  return given;
}
