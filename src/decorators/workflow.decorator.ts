// @Workflow(): records the class in the declarations; discovery happens at Zart.start().
import { registerWorkflow } from '../registry/register-workflow';
import type { AnyClass, WorkflowOptions } from '../registry/declarations';

/** Declares a class with a `run(input)` method as a durable workflow. */
export function Workflow(options: WorkflowOptions = {}): <T extends AnyClass>(target: T) => void {
  return (target) => registerWorkflow(target, options);
}
