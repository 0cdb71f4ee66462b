// Every error Zart throws. Each has a stable `name`, a `ZART_*` code and a message that ends with
// what to do; a Symbol.for brand keeps `instanceof` true across two installed copies of zart.

const brand = Symbol.for('zart.error');

/** Base class of every error Zart throws. */
export class ZartError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // A second installed copy of zart has its own classes: compare the brand and the class name.
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[brand] === true &&
      hasNameInChain(value, (this.prototype as Error).name)
    );
  }
}

function hasNameInChain(value: object, name: string): boolean {
  let proto = Object.getPrototypeOf(value) as object | null;
  for (; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    if (Object.prototype.hasOwnProperty.call(proto, 'name') && (proto as Error).name === name) return true;
  }
  return false;
}

function named<T extends abstract new (...args: never[]) => ZartError>(cls: T, name: string): T {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return cls;
}
named(ZartError, 'ZartError');

/** One failing property of a workflow input. */
export interface ValidationFailure {
  /** Dotted path of the property, e.g. `address.zip`. */
  property: string;
  /** class-validator's messages for that property. */
  messages: string[];
}

/** The input of `startWorkflow` failed class-validator; nothing was written. */
export class ValidationError extends ZartError {
  readonly workflow: string;
  readonly failures: ValidationFailure[];

  constructor(workflow: string, failures: ValidationFailure[]) {
    const lines = failures.map((f) => `  - ${f.property}: ${f.messages.join('; ')}`).join('\n');
    super(
      'ZART_VALIDATION_FAILED',
      `Input of workflow "${workflow}" is invalid; no run was started:\n${lines}\nFix these properties and start the workflow again.`,
    );
    this.workflow = workflow;
    this.failures = failures;
  }
}
named(ValidationError, 'ValidationError');

/** A workflow name (or class) was used that no `@Workflow` registered. */
export class WorkflowNotRegisteredError extends ZartError {
  readonly workflow: string;

  constructor(workflow: string, known: readonly string[]) {
    super(
      'ZART_WORKFLOW_NOT_REGISTERED',
      `No workflow named "${workflow}" is registered (known: ${known.length ? known.join(', ') : 'none'}). ` +
        'Decorate the class with @Workflow() and make sure its module is imported before zart.start().',
    );
    this.workflow = workflow;
  }
}
named(WorkflowNotRegisteredError, 'WorkflowNotRegisteredError');

/** No run has the given id. */
export class RunNotFoundError extends ZartError {
  readonly runId: string;

  constructor(runId: string) {
    super('ZART_RUN_NOT_FOUND', `No run with id "${runId}" exists. Check the id, or start the workflow first.`);
    this.runId = runId;
  }
}
named(RunNotFoundError, 'RunNotFoundError');

/**
 * `startWorkflow` reused an id that already belongs to a run of another workflow, a child's id is
 * taken, or `fork()` was given an id that is taken.
 */
export class RunIdConflictError extends ZartError {
  readonly runId: string;
  readonly existingWorkflow: string;

  /** `problem` replaces the first sentence of the message (say, a child id taken by another parent's run). */
  constructor(runId: string, existingWorkflow: string, requestedWorkflow: string, problem?: string) {
    super(
      'ZART_RUN_ID_CONFLICT',
      `${problem ?? `Run id "${runId}" already belongs to a run of workflow "${existingWorkflow}", not "${requestedWorkflow}".`} ` +
        'Run ids are idempotency keys across all workflows: choose an id that includes the workflow name.',
    );
    this.runId = runId;
    this.existingWorkflow = existingWorkflow;
  }
}
named(RunIdConflictError, 'RunIdConflictError');

/**
 * `startWorkflow` was given a `deduplicationKey` that a pending, running or waiting run of the same
 * workflow holds: no run was started. `existingRunId` is the live run.
 */
export class RunDeduplicatedError extends ZartError {
  readonly workflow: string;
  readonly deduplicationKey: string;
  readonly existingRunId: string;

  constructor(workflow: string, deduplicationKey: string, existingRunId: string) {
    super(
      'ZART_RUN_DEDUPLICATED',
      `Run "${existingRunId}" of workflow "${workflow}" with deduplicationKey ${JSON.stringify(deduplicationKey)} is ` +
        'still pending, running or waiting, so no run was started. Await that run with ' +
        'getHandle(error.existingRunId).result(), or start again once it has finished.',
    );
    this.workflow = workflow;
    this.deduplicationKey = deduplicationKey;
    this.existingRunId = existingRunId;
  }
}
named(RunDeduplicatedError, 'RunDeduplicatedError');

/**
 * `startWorkflow()` or `startChild()` named a queue this process does not know (nothing was
 * written): the run would wait for a worker that may never serve that queue.
 */
export class UnknownQueueError extends ZartError {
  readonly queue: string;
  /** The queues a run may be started in from this process. */
  readonly knownQueues: readonly string[];

  constructor(queue: string, knownQueues: readonly string[]) {
    super(
      'ZART_UNKNOWN_QUEUE',
      `No queue named ${JSON.stringify(queue)} is known to this process (known: ${knownQueues.join(', ')}), so no run was started. ` +
        `Pick one of those, or declare the queue in new Zart({ queues: { ${JSON.stringify(queue)}: {} } }) here and in the workers that serve it.`,
    );
    this.queue = queue;
    this.knownQueues = knownQueues;
  }
}
named(UnknownQueueError, 'UnknownQueueError');

/** A function that needs a running workflow (`currentRun`, `currentStep`) was called outside one. */
export class NotInWorkflowError extends ZartError {
  constructor(fn: string) {
    super(
      'ZART_NOT_IN_WORKFLOW',
      `${fn}() can only be called while a workflow runs. Call it from a @Workflow class's run() method or code it calls.`,
    );
  }
}
named(NotInWorkflowError, 'NotInWorkflowError');

/**
 * A replay contradicted the stored history of the run: a call at another position than the history
 * recorded (inserted, removed or reordered code), or the same call with other arguments.
 */
export class NonDeterminismError extends ZartError {
  readonly runId: string;
  /** The key of the call where the replay diverged (`name#n`). */
  readonly stepKey: string;
  /** What the history recorded there, e.g. `a call of step "charge"`. */
  readonly expected: string;
  /** What the code did instead, e.g. `a durable sleep`. */
  readonly actual: string;
  /** The position in the run's call order (0 for its first durable call), or null for an argument mismatch. */
  readonly position: number | null;

  constructor(runId: string, stepKey: string, expected: string, actual: string, position: number | null = null) {
    const where = position === null ? `replayed step "${stepKey}"` : `diverged from its history at call ${position}`;
    super(
      'ZART_NON_DETERMINISM',
      `Run "${runId}" ${where} as ${actual}, but its history recorded ${expected}. ` +
        'Workflow code must make the same durable calls, in the same order and with the same arguments, on every ' +
        'replay: put a change behind patched(), or ship it under a new workflow name while old runs finish, and ' +
        'check recorded histories with replayHistory() from zart/testing before deploying (docs/versioning.md).',
    );
    this.runId = runId;
    this.stepKey = stepKey;
    this.expected = expected;
    this.actual = actual;
    this.position = position;
  }
}
named(NonDeterminismError, 'NonDeterminismError');

/** A step failed (after its retries); `cause` is the step's own error, rehydrated. */
export class StepFailedError extends ZartError {
  readonly runId: string;
  readonly stepKey: string;
  readonly attempts: number;

  constructor(runId: string, stepKey: string, attempts: number, cause: unknown) {
    super(
      'ZART_STEP_FAILED',
      `Step "${stepKey}" of run "${runId}" failed after ${attempts} attempt(s): ${describeCause(cause)}. ` +
        'Catch this error in the workflow to compensate, or fix the cause and resume() the run.',
      { cause },
    );
    this.runId = runId;
    this.stepKey = stepKey;
    this.attempts = attempts;
  }
}
named(StepFailedError, 'StepFailedError');

/** `result()` of a run that failed; `cause` is the workflow's error, rehydrated. */
export class WorkflowFailedError extends ZartError {
  readonly runId: string;

  constructor(runId: string, cause: unknown) {
    super(
      'ZART_WORKFLOW_FAILED',
      `Run "${runId}" failed: ${describeCause(cause)}. Inspect it with getRun() and getSteps(), fix the cause and resume() the run, or start a new one.`,
      { cause },
    );
    this.runId = runId;
  }
}
named(WorkflowFailedError, 'WorkflowFailedError');

/** `result()` of a run that was cancelled. */
export class WorkflowCancelledError extends ZartError {
  readonly runId: string;

  constructor(runId: string) {
    super(
      'ZART_WORKFLOW_CANCELLED',
      `Run "${runId}" was cancelled. If that was a mistake, resume("${runId}") runs it again from its checkpoints.`,
    );
    this.runId = runId;
  }
}
named(WorkflowCancelledError, 'WorkflowCancelledError');

/** An operation does not apply to a run in its current status (e.g. resuming a completed run). */
export class InvalidRunStateError extends ZartError {
  readonly runId: string;
  readonly status: string;

  constructor(runId: string, status: string, operation: string, allowed: string) {
    super(
      'ZART_INVALID_RUN_STATE',
      `Cannot ${operation} run "${runId}": it is ${status}, and only ${allowed} runs allow that. Check the run with getRun().`,
    );
    this.runId = runId;
    this.status = status;
  }
}
named(InvalidRunStateError, 'InvalidRunStateError');

/** A durable wait (an event, or a run's result) did not finish in time. */
export class WaitTimeoutError extends ZartError {
  readonly waitingFor: string;
  readonly timeoutMs: number;

  constructor(waitingFor: string, timeoutMs: number) {
    super(
      'ZART_WAIT_TIMEOUT',
      `Timed out after ${timeoutMs} ms waiting for ${waitingFor}. Raise the timeout or handle the error.`,
    );
    this.waitingFor = waitingFor;
    this.timeoutMs = timeoutMs;
  }
}
named(WaitTimeoutError, 'WaitTimeoutError');

/** One attempt of a step ran past its `@Step({ timeout })`; retried like any error of the step. */
export class StepTimeoutError extends ZartError {
  readonly stepKey: string;
  readonly timeoutMs: number;

  constructor(stepKey: string, timeoutMs: number) {
    super(
      'ZART_STEP_TIMEOUT',
      `An attempt of step "${stepKey}" took longer than its timeout of ${timeoutMs} ms and was abandoned; its ` +
        'signal (currentStep().signal) was aborted. Raise the timeout, or make the work stop when the signal fires.',
    );
    this.stepKey = stepKey;
    this.timeoutMs = timeoutMs;
  }
}
named(StepTimeoutError, 'StepTimeoutError');

/**
 * Code of a transactional step used the step's transaction after the step had ended: a promise the
 * step did not await, or an attempt abandoned at its timeout. The call was refused, so it wrote nothing.
 */
export class StepTransactionClosedError extends ZartError {
  readonly runId: string;
  readonly stepKey: string;

  constructor(runId: string, stepKey: string, call: string) {
    super(
      'ZART_STEP_TRANSACTION_CLOSED',
      `${call} was called in the context of step "${stepKey}" of run "${runId}" after the step's transaction ` +
        'had ended (a promise the step did not await, or an attempt abandoned at its timeout), so it was refused. ' +
        'Await every database call inside the step.',
    );
    this.runId = runId;
    this.stepKey = stepKey;
  }
}
named(StepTransactionClosedError, 'StepTransactionClosedError');

/**
 * A run was taken over from a dead worker more times in a row than `@Workflow({ maxRecoveries })`
 * allows without making progress: its next step fails the run instead of running again.
 */
export class CrashLoopError extends ZartError {
  readonly runId: string;
  /** The step where the run stood; null when its worker died outside any step. */
  readonly stepKey: string | null;
  readonly recoveries: number;

  constructor(runId: string, stepKey: string | null, recoveries: number) {
    const where =
      stepKey === null
        ? 'its workers died outside any step (in workflow code between steps, or while loading its checkpoints), ' +
          'and it is not replayed again'
        : `step "${stepKey}", where it stood, is not run again`;
    super(
      'ZART_CRASH_LOOP',
      `Run "${runId}" was taken over from a dead worker ${recoveries} times in a row without making progress; ` +
        `${where}. Find out why the process dies there (memory, ` +
        'a native crash, process.exit), then resume(runId); raise @Workflow({ maxRecoveries }) if such crashes are expected.',
    );
    this.runId = runId;
    this.stepKey = stepKey;
    this.recoveries = recoveries;
  }
}
named(CrashLoopError, 'CrashLoopError');

/** A run passed its `@Workflow({ timeout })` deadline. */
export class DeadlineExceededError extends ZartError {
  readonly runId: string;

  constructor(runId: string) {
    super(
      'ZART_DEADLINE_EXCEEDED',
      `Run "${runId}" passed its deadline. Raise the workflow's timeout if it legitimately needs longer.`,
    );
    this.runId = runId;
  }
}
named(DeadlineExceededError, 'DeadlineExceededError');

/** This worker no longer holds the run's lease: another worker owns it now. */
export class LeaseLostError extends ZartError {
  readonly runId: string;

  constructor(runId: string) {
    super(
      'ZART_LEASE_LOST',
      `This worker lost the lease of run "${runId}"; another worker resumes it and this one stopped it. ` +
        'If this happens often, raise the worker lease or find what blocks the event loop.',
    );
    this.runId = runId;
  }
}
named(LeaseLostError, 'LeaseLostError');

/**
 * The reason an execution stopped at a crash point of a zart/testing environment: it died there as
 * in a killed process. Never stored as a run's outcome; the run resumes when its lease expires.
 */
export class SimulatedCrashError extends ZartError {
  readonly runId: string;
  readonly stepKey: string;

  constructor(runId: string, stepKey: string) {
    super(
      'ZART_SIMULATED_CRASH',
      `The execution of run "${runId}" died at step "${stepKey}" on a crash point of the test environment. ` +
        'It resumes as after a real crash: call recover() on the crash, or let its lease expire.',
    );
    this.runId = runId;
    this.stepKey = stepKey;
  }
}
named(SimulatedCrashError, 'SimulatedCrashError');

/** A value cannot be stored: the message names the step and the path inside the value. */
export class SerializationError extends ZartError {
  readonly what: string;
  readonly path: string;

  constructor(what: string, path: string, reason: string, refusal?: { code: string; message: string }) {
    super(
      refusal?.code ?? 'ZART_SERIALIZATION_FAILED',
      refusal?.message ??
        `Cannot store ${what}: the value at ${path} ${reason}. ` +
          'Return plain data (objects, arrays, strings, numbers, Date, BigInt, Map, Set, errors) from steps and workflows.',
    );
    this.what = what;
    this.path = path;
  }
}
named(SerializationError, 'SerializationError');

/**
 * A value is larger, as stored JSON text, than `limits.maxValueSize`. A SerializationError, so it
 * has the same effect wherever it happens (nothing written; a step's output: the step's failure).
 */
export class ValueTooLargeError extends SerializationError {
  /** The size of the value as stored (UTF-8 bytes of its JSON text). */
  readonly bytes: number;
  readonly limitBytes: number;

  constructor(what: string, bytes: number, limitBytes: number) {
    super(what, '$', 'is too large', {
      code: 'ZART_VALUE_TOO_LARGE',
      message:
        `Cannot store ${what}: it is ${formatBytes(bytes)} as stored JSON, over the limit of ${formatBytes(limitBytes)} ` +
        '(option limits.maxValueSize). Keep large data outside the run (a file, a bucket, a table) and pass its ' +
        'key, configure largeValues to have Zart do that, or raise limits.maxValueSize.',
    });
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}
named(ValueTooLargeError, 'ValueTooLargeError');

/** The app's large-value store (option `largeValues.store`) failed to put or get a value. */
export class LargeValueStoreError extends ZartError {
  /** What the value is, e.g. `the output of step "export#0" of run "r1"`. */
  readonly what: string;
  /** The reference being read; null when storing failed. */
  readonly ref: string | null;

  constructor(what: string, ref: string | null, cause: unknown) {
    super(
      'ZART_LARGE_VALUE_STORE',
      ref === null
        ? `The large-value store failed to store ${what}: ${describeCause(cause)}. The run failed with this error; ` +
            'fix the store (largeValues.store.put), then resume() the run.'
        : `The large-value store failed to read ${what} (reference ${JSON.stringify(ref)}): ${describeCause(cause)}. ` +
            'Make the value readable again (largeValues.store.get, in every process that reads runs), then resume() the run.',
      { cause },
    );
    this.what = what;
    this.ref = ref;
  }
}
named(LargeValueStoreError, 'LargeValueStoreError');

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [value, unit] = bytes < 1024 ** 2 ? [bytes / 1024, 'kB'] : [bytes / 1024 ** 2, 'MB'];
  return `${Number(value.toFixed(1))} ${unit} (${bytes} bytes)`;
}
/** PostgreSQL cancelled one of Zart's statements at `statementTimeout`; `cause` is the driver's error. */
export class DatabaseTimeoutError extends ZartError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, cause: unknown) {
    super(
      'ZART_DATABASE_TIMEOUT',
      `PostgreSQL cancelled a statement of Zart after statementTimeout (${timeoutMs} ms); usually another ` +
        "transaction holds a lock on Zart's tables. Find the blocking session (pg_stat_activity, pg_locks), " +
        'or raise the statementTimeout option.',
      { cause },
    );
    this.timeoutMs = timeoutMs;
  }
}
named(DatabaseTimeoutError, 'DatabaseTimeoutError');

/** Options, declarations or the environment are wrong; the message says which and how to fix it. */
export class ConfigurationError extends ZartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZART_CONFIGURATION', message, options);
  }
}
named(ConfigurationError, 'ConfigurationError');

/**
 * A call waited on a Zart instance that was shut down meanwhile (a `result()` pending at shutdown,
 * e.g. an HTTP request during a redeploy). The run itself goes on: another process can await it.
 */
export class ShutdownError extends ZartError {
  readonly runId: string;

  constructor(runId: string) {
    super(
      'ZART_SHUT_DOWN',
      `Stopped waiting for run "${runId}": this Zart instance was shut down. The run goes on; ` +
        'await it again from a running instance (getHandle(id).result()), e.g. after the redeploy.',
    );
    this.runId = runId;
  }
}
named(ShutdownError, 'ShutdownError');

/**
 * @internal An error as a clause inside another message, without its final period: every Zart
 * message ends with one, and nested messages ended in "..".
 */
export function describeCause(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\.+$/, '');
}

/**
 * The embedded PostgreSQL (demos, samples, tests) could not be installed, initialised, started or
 * stopped: its binaries are missing or unreachable, its port is taken, its disk is full, ...
 */
export class EmbeddedPostgresError extends ZartError {
  /** The data folder of the server, when the failure concerns one. */
  readonly dataDir: string | undefined;

  constructor(message: string, options?: { cause?: unknown; dataDir?: string }) {
    super('ZART_EMBEDDED_POSTGRES', message, options);
    this.dataDir = options?.dataDir;
  }
}
named(EmbeddedPostgresError, 'EmbeddedPostgresError');

/** A schedule's cron expression, time zone or options cannot be used; nothing was written. */
export class InvalidScheduleError extends ZartError {
  /** The schedule's name. */
  readonly schedule: string;

  constructor(schedule: string, problem: string) {
    super('ZART_INVALID_SCHEDULE', `Schedule "${schedule}" is invalid: ${problem}`);
    this.schedule = schedule;
  }
}
named(InvalidScheduleError, 'InvalidScheduleError');

/** No schedule has this name. */
export class ScheduleNotFoundError extends ZartError {
  readonly schedule: string;

  constructor(schedule: string) {
    super(
      'ZART_SCHEDULE_NOT_FOUND',
      `No schedule is named "${schedule}". List the schedules with listSchedules() (or \`zart schedules\`) and pass one of their names.`,
    );
    this.schedule = schedule;
  }
}
named(ScheduleNotFoundError, 'ScheduleNotFoundError');

/** @internal Every Zart error class, for the serializer to rehydrate stored errors by name. */
export const zartErrorClasses: ReadonlyArray<abstract new (...args: never[]) => ZartError> = [
  ZartError,
  ValidationError,
  WorkflowNotRegisteredError,
  RunNotFoundError,
  RunIdConflictError,
  InvalidRunStateError,
  NotInWorkflowError,
  NonDeterminismError,
  StepFailedError,
  WorkflowFailedError,
  WorkflowCancelledError,
  WaitTimeoutError,
  StepTimeoutError,
  StepTransactionClosedError,
  DeadlineExceededError,
  CrashLoopError,
  LeaseLostError,
  SerializationError,
  ValueTooLargeError,
  LargeValueStoreError,
  ConfigurationError,
  ShutdownError,
  DatabaseTimeoutError,
  EmbeddedPostgresError,
  RunDeduplicatedError,
  UnknownQueueError,
  InvalidScheduleError,
  ScheduleNotFoundError,
];
