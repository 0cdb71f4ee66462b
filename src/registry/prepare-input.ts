// Turns a workflow input into an instance of the workflow's input class: validated with
// class-validator at startWorkflow (before anything is written), instantiated when a run executes.
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError, type ValidationFailure } from '../errors';
import type { RegisteredWorkflow } from './workflow-registry';

/** Returns the input as its class instance; throws ValidationError listing every failure. */
export async function prepareInput(workflow: RegisteredWorkflow, input: unknown): Promise<unknown> {
  const cls = workflow.inputClass;
  if (!cls) return input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(workflow.name, [
      { property: '(input)', messages: [`must be an object shaped like ${cls.name}, got ${describe(input)}`] },
    ]);
  }
  const instance = input instanceof cls ? input : plainToInstance(cls, input);
  const errors = await validate(instance as object, { forbidUnknownValues: true });
  if (errors.length > 0) throw new ValidationError(workflow.name, flatten(errors, ''));
  return instance;
}

/** Instantiates without validating: for a stored input that was validated when the run started. */
export function instantiateInput(workflow: RegisteredWorkflow, input: unknown): unknown {
  const cls = workflow.inputClass;
  if (!cls || typeof input !== 'object' || input === null) return input;
  return plainToInstance(cls, input);
}

function flatten(errors: ClassValidatorError[], prefix: string): ValidationFailure[] {
  return errors.flatMap((error) => {
    const property = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ property, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], property)];
  });
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
