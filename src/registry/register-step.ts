// registerStep(): records a step method and installs its trampoline; @Step records through the
// same declareStep() and lets the decorator machinery install it.
import { currentFrame } from '../context/run-context';
import type { StepPolicy } from '../context/run-context';
import { resolveStepPolicy } from '../engine/step-policy';
import { ConfigurationError } from '../errors';
import { declarations, type AnyClass, type StepOptions } from './declarations';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Declares `target.prototype[method]` as a step, the plain-function twin of `@Step(options)`. */
export function registerStep(target: AnyClass, method: string, options: StepOptions = {}): void {
  const prototype = target.prototype as Record<string, unknown>;
  const trampoline = declareStep(target, method, prototype[method], options);
  Object.defineProperty(prototype, method, { value: trampoline, writable: true, configurable: true });
}

/** @internal Records the step and returns the trampoline that replaces `original`. */
export function declareStep(target: AnyClass, method: string, original: unknown, options: StepOptions): Method {
  if (typeof original !== 'function') {
    throw new ConfigurationError(
      `${target.name}.${method} is not a method; @Step() and registerStep() take methods only.`,
    );
  }
  const name = options.name ?? `${target.name}.${method}`;
  const policy = resolveStepPolicy(options, `@Step() ${target.name}.${method}`);
  declarations().steps.push({ target, method, name });
  const trampoline = makeTrampoline(name, original as Method, policy);
  // A decorator applied before @Step (written below it) stored its metadata on the original
  // function; one applied after (written above) stores it on the trampoline, which is installed.
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), trampoline);
  }
  return trampoline;
}

// The few lines every step call goes through: no run, or already inside a step, means a plain call.
function makeTrampoline(name: string, original: Method, policy: StepPolicy): Method {
  const trampoline = function (this: unknown, ...args: unknown[]): unknown {
    const frame = currentFrame();
    if (!frame || frame.step) return original.apply(this, args);
    return frame.run.callStep(name, () => original.apply(this, args), args, policy);
  };
  Object.defineProperty(trampoline, 'name', { value: original.name });
  return trampoline;
}
