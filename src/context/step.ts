// step(name, fn): an inline checkpointed step for a closure, the plain-function twin of @Step.
import type { StepOptions } from '../registry/declarations';
import { resolveStepPolicy } from '../engine/step-policy';
import { currentFrame } from './run-context';

/**
 * Runs `fn` as a checkpointed step named `name`: inside a workflow its result is stored and a
 * replay returns it without calling `fn`; outside a workflow `fn` is simply called.
 */
export function step<T>(
  name: string,
  fn: () => T | Promise<T>,
  options: Omit<StepOptions, 'name'> = {},
): Promise<Awaited<T>> {
  const frame = currentFrame();
  if (!frame || frame.step) return new Promise<Awaited<T>>((resolve) => resolve(fn() as Awaited<T>));
  return frame.run.callStep(name, fn, undefined, resolveStepPolicy(options, `step("${name}")`));
}
