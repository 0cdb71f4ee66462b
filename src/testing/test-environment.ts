// A Zart for tests whose clock can be skipped (durable sleeps, retry back-offs, event timeouts and
// deadlines pass in milliseconds, and now() in workflows reports the skipped time) and whose runs
// can be made to die at a named step and recovered in the same process. It changes only its own
// schema: stored times are moved (skip-stored-times.ts), never the server's or the process's clock.
import { setTimeout as delay } from 'node:timers/promises';
import type { Zart } from '../client/zart';
import type { ResultOptions, WorkflowHandle } from '../client/workflow-handle';
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError, WaitTimeoutError } from '../errors';
import { consoleLogger, type ZartLogger } from '../logging/zart-logger';
import { checkCallOptions, type ZartOptions } from '../options/resolve-options';
import { expireLease } from './expire-lease';
import { HookedZart } from './hooked-zart';
import { CrashPoints, type CrashOptions, type InjectedCrash } from './injected-crash';
import { readTimers, skipStoredTimes } from './skip-stored-times';
import { createTestDatabase, type TestDatabase } from './test-database';

/** Options of `createTestEnvironment()`: those of `new Zart()`, plus `autoSkip`. */
export interface TestEnvironmentOptions extends ZartOptions {
  /**
   * Skip time whenever every run of the environment is parked on a timer, for the environment's
   * whole life. Default false: time is skipped by `skip()`, `skipTo()`, and while `result()` waits.
   */
  autoSkip?: boolean;
}

/** Options of `TestEnvironment.waitUntilIdle()`. */
export interface WaitUntilIdleOptions {
  /** Reject with WaitTimeoutError after this long. Default `'10s'`. */
  timeout?: Duration;
}

// Tests read their own assertions, not Zart's progress ("applied migrations" in every file).
const warningsOnly: ZartLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => consoleLogger.warn(message, fields),
  error: (message, fields) => consoleLogger.error(message, fields),
};

// How often auto-skipping looks whether every run is parked; one small query each time.
const autoSkipPollMs = 10;

/**
 * A started Zart on a database of its own (unless `connectionString` or `dataSource` is given),
 * with a clock the test moves. Create it with `createTestEnvironment()`; `close()` it after the tests.
 */
export class TestEnvironment {
  /** The Zart to start, inspect and await runs with; its worker executes them. */
  readonly zart: Zart;
  private skippedMs = 0;
  private readonly crashPoints: CrashPoints;
  private autoSkipUsers = 0;
  private autoSkipLoop: { stop: AbortController; done: Promise<void> } | undefined;
  /** Skips run one at a time: explicit ones and auto-skipping may overlap. */
  private skipping: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  /** @internal Use createTestEnvironment(). */
  constructor(
    options: ZartOptions,
    private readonly ownDatabase: TestDatabase | undefined,
    private readonly keepAutoSkipping: boolean,
  ) {
    this.crashPoints = new CrashPoints((crash) => this.recoverFrom(crash.runId, crash.epoch));
    this.zart = new HookedZart(options, {
      now: () => this.now(),
      crashesAt: (point, step) => this.crashPoints.crashesAt(point, step),
    });
  }

  /** The URL of the database the environment created, or undefined when it was given one. */
  get databaseUrl(): string | undefined {
    return this.ownDatabase?.url;
  }

  /** The environment's clock: the real time plus every skip so far. What now() in a workflow returns. */
  now(): Date {
    return new Date(Date.now() + this.skippedMs);
  }

  /**
   * Moves the clock forward: timers set so far (durable sleeps, retry back-offs, event timeouts,
   * deadlines, delayed starts) come `duration` closer, and runs that became due wake at once.
   * Leases do not move. A timer set after the skip runs its full length from the new time.
   */
  async skip(duration: Duration): Promise<void> {
    await this.skipMs(parseDuration(duration, 'skip(duration)'));
  }

  /** Moves the clock forward to `time`; a time before `now()` is refused. */
  async skipTo(time: Date): Promise<void> {
    if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
      throw new ConfigurationError(`skipTo(time) takes a valid Date, got ${String(time)}.`);
    }
    const ms = time.getTime() - this.now().getTime();
    if (ms < 0) {
      throw new ConfigurationError(
        `skipTo(${time.toISOString()}) is ${-ms} ms before the environment's clock (${this.now().toISOString()}); ` +
          'time only moves forward. Pass a later time, or use skip(duration).',
      );
    }
    await this.skipMs(ms);
  }

  /**
   * Awaits a run's result, skipping time whenever every run of the environment is parked on a
   * timer, like Temporal's time-skipping test environment: a workflow that sleeps 30 days returns
   * in milliseconds. Events the run waits for must be sent before, or the wait's timeout passes.
   */
  async result<T>(handle: WorkflowHandle<T>, options: ResultOptions = {}): Promise<T> {
    checkCallOptions(options, 'result(handle, options)', "{ timeout: '10s' }");
    const release = this.autoSkipWhile();
    try {
      return await handle.result(options);
    } finally {
      release();
    }
  }

  /**
   * Resolves once no run of the environment executes or is due: every run is parked (on a timer,
   * an event, a child) or finished. Call it before `skip()` so that the waits the runs are about
   * to record exist when the clock moves. A run that died on a crash point counts as executing
   * until it is recovered. Rejects with WaitTimeoutError after `timeout` (default 10 s).
   */
  async waitUntilIdle(options: WaitUntilIdleOptions = {}): Promise<void> {
    checkCallOptions(options, 'waitUntilIdle(options)', "{ timeout: '10s' }");
    const timeoutMs = parseDuration(options.timeout ?? '10s', 'waitUntilIdle({ timeout })');
    const until = Date.now() + timeoutMs;
    while ((await readTimers(this.database)).busy) {
      if (Date.now() >= until) throw new WaitTimeoutError('every run of the test environment to park', timeoutMs);
      await delay(autoSkipPollMs);
    }
  }

  /**
   * Arms a crash point: the first execution that reaches step `step` (a name such as
   * `Payments.charge` or `step('name')`'s, or a key such as `Payments.charge#1`) dies there as
   * if its process were killed. `recover()` on the result then resumes the run here.
   */
  crashAt(step: string, options: CrashOptions = {}): InjectedCrash {
    checkCallOptions(options, 'crashAt(step, options)', "{ when: 'after-effect' }");
    if (typeof step !== 'string' || step.length === 0) {
      throw new ConfigurationError(
        `crashAt(step) takes a step name or key such as 'Payments.charge', got ${String(step)}.`,
      );
    }
    const when = options.when ?? 'before-step';
    if (when !== 'before-step' && when !== 'after-effect') {
      throw new ConfigurationError(
        `crashAt(step, { when }) takes 'before-step' or 'after-effect', got ${String(when)}.`,
      );
    }
    return this.crashPoints.arm(step, options.runId === undefined ? { when } : { when, runId: options.runId });
  }

  /** Shuts the Zart down (in-flight runs are abandoned) and drops the database it created. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.stopAutoSkipping();
      await this.zart.shutdown({ drain: 0 });
      await this.ownDatabase?.drop();
    })());
  }

  /** @internal Starts the worker, and auto-skipping if asked for. */
  async start(): Promise<void> {
    await this.zart.start();
    if (this.keepAutoSkipping) this.autoSkipWhile();
  }

  private get database(): ReturnType<HookedZart['database']> {
    return (this.zart as HookedZart).database();
  }

  private skipMs(ms: number): Promise<void> {
    const next = this.skipping.then(async () => {
      if (ms === 0) return;
      // The clock moves first: a run woken by the skip must not read the time before it.
      this.skippedMs += ms;
      try {
        await skipStoredTimes(this.database, ms);
      } catch (error) {
        this.skippedMs -= ms;
        throw error;
      }
    });
    this.skipping = next.catch(() => undefined);
    return next;
  }

  private async recoverFrom(runId: string, epoch: number): Promise<void> {
    await expireLease(this.database, runId, epoch);
  }

  // Auto-skipping runs while at least one caller holds it; the returned function releases it.
  private autoSkipWhile(): () => void {
    this.autoSkipUsers++;
    if (!this.autoSkipLoop) {
      const stop = new AbortController();
      this.autoSkipLoop = { stop, done: this.skipWhenIdle(stop.signal) };
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.autoSkipUsers === 0) void this.stopAutoSkipping();
    };
  }

  private async stopAutoSkipping(): Promise<void> {
    const loop = this.autoSkipLoop;
    this.autoSkipLoop = undefined;
    this.autoSkipUsers = 0;
    loop?.stop.abort();
    await loop?.done;
  }

  // Every run parked, one of them on a timer: skip to that timer. A run executing a step, or one
  // that is due, holds the clock still.
  private async skipWhenIdle(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      try {
        const { busy, nextInMs } = await readTimers(this.database);
        if (!busy && nextInMs !== undefined && !stop.aborted) await this.skipMs(Math.ceil(nextInMs));
      } catch {
        // Shutting down, or a dropped connection: look again at the next turn.
      }
      await delay(autoSkipPollMs, undefined, { signal: stop }).catch(() => undefined);
    }
  }
}

/**
 * Creates a test environment: a fresh database (see createTestDatabase) unless `connectionString`
 * or `dataSource` is given, and a started Zart on it whose clock `skip()` moves. Its worker parks
 * every durable wait (worker option `maxInProcessWait` defaults to 0 here), so that every wait can
 * be skipped, polls every 100 ms, and logs only warnings and errors unless given a `logger`.
 */
export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  // It rewrites the times stored in its schema: never next to a production deployment's data.
  if (process.env.NODE_ENV === 'production') {
    throw new ConfigurationError(
      'createTestEnvironment() refuses to run with NODE_ENV=production: skipping time rewrites the times stored in its ' +
        "schema. It is for tests only; run them with NODE_ENV=test (jest's default).",
    );
  }
  const { autoSkip = false, ...zartOptions } = options;
  if (typeof autoSkip !== 'boolean') {
    throw new ConfigurationError(`createTestEnvironment({ autoSkip }) takes true or false, got ${String(autoSkip)}.`);
  }
  const ownDatabase =
    zartOptions.connectionString === undefined && zartOptions.dataSource === undefined
      ? await createTestDatabase()
      : undefined;
  const worker =
    zartOptions.worker === false
      ? false
      : { maxInProcessWait: 0, pollInterval: '100ms' as const, ...(zartOptions.worker ?? {}) };
  const environment = new TestEnvironment(
    {
      logger: warningsOnly,
      ...zartOptions,
      ...(ownDatabase ? { connectionString: ownDatabase.url } : {}),
      worker,
    },
    ownDatabase,
    autoSkip,
  );
  try {
    await environment.start();
  } catch (error) {
    await environment.close().catch(() => undefined);
    throw error;
  }
  return environment;
}
