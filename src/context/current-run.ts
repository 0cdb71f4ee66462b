// currentRun(), currentStep() and stepTransaction(): what a workflow or step may know about where
// it runs.
import type { EntityManager } from 'typeorm';
import { ConfigurationError, NotInWorkflowError, StepTransactionClosedError } from '../errors';
import { currentFrame, type RunInfo, type StepInfo } from './run-context';

/** The run this code executes in. Throws NotInWorkflowError outside a workflow. */
export function currentRun(): RunInfo {
  const frame = currentFrame();
  if (!frame) throw new NotInWorkflowError('currentRun');
  const { id, workflow, attempt, parentId, signal, scheduledAt } = frame.run;
  return { id, workflow, attempt, parentId, signal, scheduledAt };
}

/** The step this code executes in. Throws NotInWorkflowError outside a step of a workflow. */
export function currentStep(): StepInfo {
  const step = currentFrame()?.step;
  if (!step) throw new NotInWorkflowError('currentStep');
  return step;
}

/**
 * The EntityManager of the transaction a `@Step({ transaction: true })` runs in: what the step
 * writes through it commits together with the step's checkpoint, exactly once. The default manager
 * and repositories of the DataSource given to `new Zart({ dataSource })` join the same transaction.
 */
export function stepTransaction(): EntityManager {
  const frame = currentFrame();
  if (!frame?.step) throw new NotInWorkflowError('stepTransaction');
  if (!frame.transaction) {
    throw new ConfigurationError(
      `stepTransaction() is only available in steps declared with { transaction: true }; step "${frame.step.key}" is not.`,
    );
  }
  if (!frame.transaction.open) throw new StepTransactionClosedError(frame.run.id, frame.step.key, 'stepTransaction()');
  return frame.transaction.manager;
}
