// Turns a workflow input into an instance of the workflow's input class: validated with
// class-validator at startWorkflow (before anything is written), instantiated when a run executes.
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError as ClassValidatorError } from 'class-validator';
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
  // class-transformer recurses without tracking what it has seen: a cycle overflowed the stack.
  const cycle = findCycle(input, '', new Map());
  if (cycle) {
    throw new ValidationError(workflow.name, [
      {
        property: cycle.path,
        messages: [`refers back to ${cycle.target || '(input)'}: a workflow input must be plain data without cycles`],
      },
    ]);
  }
  const instance = input instanceof cls ? input : plainToInstance(cls, input);
  // An input class without any class-validator decorator has no rules to check: it is only
  // instantiated. (forbidUnknownValues rejected every input of such a class with the message
  // "undefined: an unknown value was passed to the validate function".)
  if (!hasValidationRules(cls)) return instance;
  const errors = await validate(instance as object, { forbidUnknownValues: true });
  if (errors.length > 0) throw new ValidationError(workflow.name, flatten(errors, ''));
  return instance;
}

function hasValidationRules(cls: abstract new (...args: never[]) => unknown): boolean {
  return getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false).length > 0;
}

/** Instantiates without validating: for a stored input that was validated when the run started. */
export function instantiateInput(workflow: RegisteredWorkflow, input: unknown): unknown {
  const cls = workflow.inputClass;
  if (!cls || typeof input !== 'object' || input === null) return input;
  return plainToInstance(cls, input);
}

/** The first path at which `value` contains one of its own ancestors, and that ancestor's path. */
function findCycle(
  value: unknown,
  path: string,
  ancestors: Map<object, string>,
): { path: string; target: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ancestor = ancestors.get(value);
  if (ancestor !== undefined) return { path, target: ancestor };
  // Only ancestors count: the same object reached twice along different paths is no cycle.
  ancestors.set(value, path);
  const children: Iterable<[string, unknown]> =
    value instanceof Map
      ? [...value.entries()].map(([key, child]) => [String(key), child])
      : value instanceof Set
        ? [...value].map((child, index) => [String(index), child])
        : Object.entries(value);
  for (const [key, child] of children) {
    const found = findCycle(child, path ? `${path}.${key}` : key, ancestors);
    if (found) return found;
  }
  ancestors.delete(value);
  return undefined;
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
