// @Step(): records the method and swaps in the trampoline that hands calls to the engine.
import type { AnyClass, StepOptions } from '../registry/declarations';
import { declareStep } from '../registry/register-step';

/**
 * Declares a method as a durable step: checkpointed inside a workflow, a plain call outside.
 * Other decorators' method metadata (Nest's `@SetMetadata`, guards, ...) is kept in either order.
 */
export function Step(options: StepOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const trampoline = declareStep(target.constructor as AnyClass, String(propertyKey), descriptor.value, options);
    descriptor.value = trampoline as NonNullable<typeof descriptor.value>;
  };
}
