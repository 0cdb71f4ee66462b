// The registry Zart.start() compiles from the declarations: names checked for duplicates, input
// classes resolved, then frozen. Each Zart instance compiles its own; nothing here is global.
import { parseDuration } from '../duration/parse-duration';
import { resolveRetryPolicy, type ResolvedRetryPolicy } from '../engine/retry-policy';
import { ConfigurationError, WorkflowNotRegisteredError } from '../errors';
import { declarations, type AnyClass, type InputClass, type WorkflowDeclaration } from './declarations';

/** @internal A workflow ready to start and execute. */
export interface RegisteredWorkflow {
  readonly name: string;
  readonly target: AnyClass;
  readonly version: string | null;
  /** Earlier names of the workflow, whose runs it executes. */
  readonly formerNames: readonly string[];
  readonly queue: string;
  /** Instantiated and validated at start; undefined when `run` takes a plain type. */
  readonly inputClass: InputClass | undefined;
  readonly retry: ResolvedRetryPolicy;
  readonly timeoutMs: number | null;
  readonly maxRecoveries: number;
}

// design:paramtypes gives these for plain or missing parameter types: nothing to validate.
const plainTypes = new Set<unknown>([
  Object,
  String,
  Number,
  Boolean,
  Array,
  Symbol,
  BigInt,
  Promise,
  Function,
  undefined,
]);

/** @internal */
export class WorkflowRegistry {
  private readonly byName: ReadonlyMap<string, RegisteredWorkflow>;
  private readonly byClass: ReadonlyMap<AnyClass, RegisteredWorkflow>;
  private readonly byFormerName: ReadonlyMap<string, RegisteredWorkflow>;

  private constructor(workflows: RegisteredWorkflow[]) {
    this.byName = new Map(workflows.map((w) => [w.name, Object.freeze(w)]));
    this.byFormerName = new Map(workflows.flatMap((w) => w.formerNames.map((name) => [name, w] as const)));
    this.byClass = new Map(workflows.map((w) => [w.target, w]));
  }

  /** Compiles everything declared so far; throws ConfigurationError naming the offending classes. */
  static compile(appVersion: string | null = null): WorkflowRegistry {
    const byName = new Map<string, RegisteredWorkflow>();
    for (const declaration of declarations().workflows) {
      const workflow = compileWorkflow(declaration, appVersion);
      const clash = byName.get(workflow.name);
      if (clash) {
        throw new ConfigurationError(
          `Two workflows are named "${workflow.name}": ${clash.target.name} and ${workflow.target.name}. ` +
            'Give one of them another name with @Workflow({ name }).',
        );
      }
      byName.set(workflow.name, workflow);
    }
    const taken = new Map<string, string>();
    for (const workflow of byName.values()) {
      for (const former of workflow.formerNames) {
        const owner = byName.has(former) ? byName.get(former)!.target.name : taken.get(former);
        if (owner !== undefined) {
          throw new ConfigurationError(
            `@Workflow() ${workflow.target.name} lists former name "${former}", which is also the name or a former name of ${owner}. ` +
              'A name belongs to one workflow: remove it from one of them.',
          );
        }
        taken.set(former, workflow.target.name);
      }
    }
    const stepNames = new Map<string, string>();
    for (const step of declarations().steps) {
      const where = `${step.target.name}.${step.method}`;
      const clash = stepNames.get(step.name);
      if (clash && clash !== where) {
        throw new ConfigurationError(
          `Two steps are named "${step.name}": ${clash} and ${where}. Step names identify checkpoints; ` +
            'give one of them another name with @Step({ name }).',
        );
      }
      stepNames.set(step.name, where);
    }
    return new WorkflowRegistry([...byName.values()]);
  }

  /** Every name whose runs these workflows execute: their names and former names. */
  get claimableNames(): string[] {
    return [...this.byName.keys(), ...this.byFormerName.keys()];
  }

  /** The code versions these workflows record on their runs. */
  get versions(): string[] {
    return [...new Set(this.workflows.flatMap((w) => (w.version === null ? [] : [w.version])))];
  }

  /** Every registered workflow. */
  get workflows(): RegisteredWorkflow[] {
    return [...this.byName.values()];
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The workflow for a class or a name; WorkflowNotRegisteredError otherwise. */
  get(workflow: AnyClass | string): RegisteredWorkflow {
    const found = typeof workflow === 'string' ? this.byName.get(workflow) : this.byClass.get(workflow);
    if (!found)
      throw new WorkflowNotRegisteredError(typeof workflow === 'string' ? workflow : workflow.name, this.names);
    return found;
  }

  /** The workflow of a name or a former name. */
  find(name: string): RegisteredWorkflow | undefined {
    return this.byName.get(name) ?? this.byFormerName.get(name);
  }
}

// Ten takeovers without progress: far more than unrelated crashes produce, few enough that a step
// that kills its process stops taking workers down within minutes.
const defaultMaxRecoveries = 10;

function compileWorkflow(declaration: WorkflowDeclaration, appVersion: string | null): RegisteredWorkflow {
  const { target, options } = declaration;
  if (typeof (target.prototype as { run?: unknown }).run !== 'function') {
    throw new ConfigurationError(
      `@Workflow() class ${target.name} has no run(input) method. Add one: it is the workflow's entry point.`,
    );
  }
  const name = options.name ?? target.name;
  if (!name.trim()) throw new ConfigurationError(`@Workflow() on ${target.name} has an empty name.`);
  const declared = options.input ?? declaration.runParamTypes?.[0];
  const inputClass = typeof declared === 'function' && !plainTypes.has(declared) ? (declared as InputClass) : undefined;
  const retry = resolveRetryPolicy(options.retry, `@Workflow() ${target.name}`);
  let timeoutMs: number | null = null;
  try {
    if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout, `@Workflow() ${target.name} timeout`);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  const maxRecoveries = options.maxRecoveries ?? defaultMaxRecoveries;
  if (!Number.isInteger(maxRecoveries) || maxRecoveries < 0) {
    throw new ConfigurationError(
      `@Workflow() ${target.name}: maxRecoveries must be a whole number of 0 or more, got ${String(options.maxRecoveries)}.`,
    );
  }
  const queue = options.queue ?? 'default';
  const formerNames = options.formerNames ?? [];
  if (!Array.isArray(formerNames) || !formerNames.every((n) => typeof n === 'string' && n.trim() && n !== name)) {
    throw new ConfigurationError(
      `@Workflow() ${target.name}: formerNames must be an array of the workflow's earlier names (not its current one), got ${JSON.stringify(formerNames)}.`,
    );
  }
  const version = options.version ?? appVersion;
  return { name, target, version, formerNames, queue, inputClass, retry, timeoutMs, maxRecoveries };
}
