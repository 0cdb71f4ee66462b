// currentRun() and currentStep(): what a workflow or step may know about where it runs.
import { NotInWorkflowError } from '../errors';
import { currentFrame, type RunInfo, type StepInfo } from './run-context';

/** The run this code executes in. Throws NotInWorkflowError outside a workflow. */
export function currentRun(): RunInfo {
  const frame = currentFrame();
  if (!frame) throw new NotInWorkflowError('currentRun');
  const { id, workflow, attempt, parentId, signal } = frame.run;
  return { id, workflow, attempt, parentId, signal };
}

/** The step this code executes in. Throws NotInWorkflowError outside a step of a workflow. */
export function currentStep(): StepInfo {
  const step = currentFrame()?.step;
  if (!step) throw new NotInWorkflowError('currentStep');
  return step;
}
