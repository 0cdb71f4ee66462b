// registerWorkflow(): records a workflow class; @Workflow is a one-line wrapper around it.
import { declarations, type AnyClass, type WorkflowOptions } from './declarations';

/** Declares `target` (a class with `run(input)`) as a workflow. Same as `@Workflow(options)`. */
export function registerWorkflow(target: AnyClass, options: WorkflowOptions = {}): void {
  const runParamTypes = Reflect.getMetadata('design:paramtypes', target.prototype as object, 'run') as
    unknown[] | undefined;
  const list = declarations().workflows;
  const existing = list.findIndex((d) => d.target === target);
  const declaration = { target, options: { ...options }, runParamTypes };
  // Declaring the same class twice (a re-imported module) replaces the earlier record.
  if (existing >= 0) list[existing] = declaration;
  else list.push(declaration);
}
