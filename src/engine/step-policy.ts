// Compiles a step's options (retry, transaction) once, where the step is declared, so bad options
// fail early with the step's name and each call reads a frozen policy.
import type { StepPolicy } from '../context/run-context';
import { parseDuration } from '../duration/parse-duration';
import { ConfigurationError } from '../errors';
import type { StepOptions } from '../registry/declarations';
import { noRetry, resolveRetryPolicy } from './retry-policy';

/** @internal The policy of a step without options. */
export const defaultStepPolicy: StepPolicy = Object.freeze({ retry: noRetry, transaction: false, timeoutMs: null });

/** @internal `where` names the step in errors. */
export function resolveStepPolicy(options: Omit<StepOptions, 'name'>, where: string): StepPolicy {
  if (options.retry === undefined && options.transaction === undefined && options.timeout === undefined) {
    return defaultStepPolicy;
  }
  if (options.transaction !== undefined && typeof options.transaction !== 'boolean') {
    throw new ConfigurationError(`Invalid options of ${where}: transaction must be true or false.`);
  }
  let timeoutMs: number | null = null;
  try {
    if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout, `${where} timeout`);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  return Object.freeze({
    retry: resolveRetryPolicy(options.retry, where),
    transaction: options.transaction ?? false,
    timeoutMs,
  });
}
