// Asks the `resolve` option for the instance that executes a run, and refuses anything that cannot
// run it, naming what came back instead of failing later with "instance.run is not a function".
import { ConfigurationError } from '../errors';
import type { WorkflowResolver } from '../options/resolve-options';
import { showValue } from '../options/show-value';
import type { AnyClass } from '../registry/declarations';

/** @internal A workflow instance, awaited when `resolve` returns a promise. */
export async function resolveWorkflowInstance(
  resolve: WorkflowResolver,
  target: AnyClass,
): Promise<{ run(input: unknown): unknown }> {
  const instance: unknown = await resolve(target);
  if (typeof instance !== 'object' || instance === null || typeof (instance as { run?: unknown }).run !== 'function') {
    throw new ConfigurationError(
      `The resolve option returned ${showValue(instance)} for workflow class ${target.name}, which has no run() method. ` +
        'Return an instance of the class (or a promise of one), e.g. resolve: (cls) => container.get(cls).',
    );
  }
  return instance as { run(input: unknown): unknown };
}

/**
 * @internal Without a `resolve` option each run is executed by `new cls()`: a class whose
 * constructor takes arguments (injected services) would get undefined for each and fail every run
 * at its first use of one. Refused at start() instead, naming the classes.
 */
export function checkBuildableWithNew(workflows: readonly AnyClass[]): void {
  const needArguments = workflows.filter((target) => target.length > 0);
  if (needArguments.length === 0) return;
  const list = needArguments.map((target) => `${target.name} (${target.length})`).join(', ');
  throw new ConfigurationError(
    `These workflow classes take constructor arguments, but no resolve option was given, so they would be built with new cls() and get undefined for each: ${list}. ` +
      'Pass resolve: (cls) => container.get(cls) to new Zart(...), or use ZartModule from zart/nestjs in a Nest app.',
  );
}
