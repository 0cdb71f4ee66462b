// ZartClient: starts and inspects runs without executing any (no worker). Zart extends it with a
// worker. Both validate inputs before writing, and both can await any run's result.
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDuration } from '../duration/parse-duration';
import { checkEventName, checkExistingRunId, checkRunId, checkStepKey } from '../storage/identifiers';
import {
  ConfigurationError,
  DeadlineExceededError,
  InvalidRunStateError,
  RunDeduplicatedError,
  RunIdConflictError,
  RunNotFoundError,
  ScheduleNotFoundError,
  ShutdownError,
  WaitTimeoutError,
  WorkflowCancelledError,
  WorkflowFailedError,
} from '../errors';
import type { StoredTraceContext } from '../observability/trace-context';
import type { MetricsText, QueueRunCounts } from '../observability/zart-metrics';
import { showValue } from '../options/show-value';
import {
  checkCallOptions,
  resolveOptions,
  type ResolvedZartOptions,
  type ZartOptions,
} from '../options/resolve-options';
import type { WorkflowClass, WorkflowOutput, WorkflowStartArguments } from '../registry/declarations';
import { prepareInput } from '../registry/prepare-input';
import { resolveRunPlacement, type RunPlacementOptions } from '../queues/resolve-run-placement';
import { knownQueues, resolveRunQueue } from '../queues/resolve-run-queue';
import { WorkflowRegistry } from '../registry/workflow-registry';
import type { StoredValue } from '../serialization/serializer';
import { EventEntity, RunEntity, runStatuses, StepCheckpointEntity, type RunStatus } from '../storage/entities';
import { isConnectionError, isTransientError, transientBackOffMs } from '../storage/reconnect';
import { cancelRuns } from '../storage/sql/cancel-runs';
import { countRunsByQueue } from '../storage/sql/count-runs-by-queue';
import { deleteFinishedRuns } from '../storage/sql/delete-finished-runs';
import { forkRun } from '../storage/sql/fork-run';
import { insertEvent } from '../storage/sql/insert-event';
import { insertRun, type RunPlacement } from '../storage/sql/insert-run';
import {
  insertRuns,
  type InsertedStart,
  type StartClaim,
  type StartedRun,
  type StartingRun,
} from '../storage/sql/insert-runs';
import { GroupCommit } from '../storage/group-commit';
import { moveRun } from '../storage/sql/move-run';
import { resumeRun } from '../storage/sql/reset-run';
import { listWorkers } from '../storage/sql/list-workers';
import { readRunOutcome, type RunOutcomeRow } from '../storage/sql/read-run-outcome';
import { describeServer, ZartDatabase } from '../storage/zart-database';
import { WakeUpPublisher } from '../wake-ups/wake-up-publisher';
import type { RunHistory, RunHistoryCall } from './run-history';
import { CronExpression } from '../schedules/cron-expression';
import { checkScheduleName, type ScheduleInfo, type ScheduleOptions } from '../schedules/schedule-options';
import { storeSchedule, toScheduleInfo } from '../schedules/schedule-store';
import {
  deleteSchedule,
  getScheduleRow,
  listScheduleRows,
  notifySchedulesChanged,
  pauseSchedule,
  resumeSchedule,
} from '../storage/sql/change-schedule';
import { readDatabaseNow } from '../storage/sql/save-schedule';
import type { ResultOptions, WorkflowHandle } from './workflow-handle';
import type {
  DeleteFinishedRunsOptions,
  ListRunsOptions,
  RunEvent,
  StepCheckpoint,
  WorkerInfo,
  WorkflowRun,
} from './workflow-run';

/** Options of `fork()`. */
export interface ForkOptions {
  /** The key of the first step to execute again (earlier checkpoints are reused). */
  fromStep: string;
  /** The new run's id. Default: `<id>-fork-<uuid>`. */
  id?: string | undefined;
}

/** Options of `startWorkflow()`. */
export interface StartWorkflowOptions extends RunPlacementOptions {
  /** The run id and idempotency key: starting again with the same id returns the same run. Default: a UUID. */
  id?: string | undefined;
  /**
   * The queue of this run instead of its workflow's `@Workflow({ queue })`: its limits apply, and
   * only workers serving it claim the run. A queue this process does not know throws
   * UnknownQueueError (nothing is written).
   */
  queue?: string | undefined;
  /**
   * Insert the run in the caller's transaction (a TypeORM EntityManager of it): the run exists
   * if and only if the transaction commits, and workers are woken at the commit.
   */
  manager?: EntityManager | undefined;
}

/** Starts and inspects runs; executes none. */
export class ZartClient {
  /** @internal */
  protected readonly options: ResolvedZartOptions;
  /** @internal */
  protected db: ZartDatabase | undefined;
  /** @internal */
  protected registry: WorkflowRegistry | undefined;
  /** @internal */
  protected wakeUps: WakeUpPublisher | undefined;
  /** Starts outside a caller's transaction, group-committed (sql/insert-runs.ts). */
  private starts: GroupCommit<StartingRun, InsertedStart> | undefined;
  /** @internal The queues startWorkflow() and startChild() accept (resolve-run-queue.ts). */
  protected knownQueues: ReadonlySet<string> = new Set();
  private closing = new AbortController();
  /** The one start of this instance: concurrent start() calls share it; a failed one is forgotten. */
  private starting: Promise<void> | undefined;
  /** The one shutdown of this instance: concurrent and later shutdown() calls share it. */
  private stopping: Promise<void> | undefined;
  /** Takes this instance's database out of the scrape-time queue gauges. */
  private stopCountingQueues: (() => void) | undefined;

  constructor(options: ZartOptions = {}) {
    this.options = resolveOptions(options, this.hasWorker());
  }

  /**
   * Connects, migrates (unless `migrate: false`) and compiles the declared workflows. Concurrent
   * calls share one start; after a failure a later call tries again; after shutdown() it throws.
   */
  async start(): Promise<void> {
    if (this.stopping) {
      throw new ConfigurationError(
        'This Zart instance was shut down and cannot be started again. Create a new instance (new Zart(options)) instead.',
      );
    }
    this.starting ??= this.startRetrying().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  // A server restarting while this process starts (refusing connections, starting up, or dropping
  // the connection during the migration) is waited for, up to connectTimeout from the first try;
  // past that, or on any other failure, start() fails and leaves nothing open.
  private async startRetrying(): Promise<void> {
    const { connectTimeoutMs } = this.options.connection;
    const until = Date.now() + connectTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (error) {
        await this.closeConnection();
        const cause = error instanceof ConfigurationError ? error.cause : error;
        const pauseMs = transientBackOffMs(attempt);
        if (!isTransientError(cause) || this.stopping || Date.now() + pauseMs >= until) {
          throw startFailure(error, describeServer(this.options.connection), connectTimeoutMs);
        }
        this.options.logger.warn('PostgreSQL is not available; start() tries again', {
          attempt,
          error: cause instanceof Error ? cause.message : String(cause),
        });
        await delay(pauseMs, undefined, { signal: this.closing.signal }).catch(() => undefined);
      }
    }
  }

  /** @internal The work of start(), run once; Zart adds its worker. */
  protected async startOnce(): Promise<void> {
    this.closing = new AbortController();
    // Every pending result() waits on this signal: any number of them may be in flight.
    setMaxListeners(0, this.closing.signal);
    this.registry = WorkflowRegistry.compile(this.options.version);
    const served = this.options.worker ? this.options.worker.queues : [];
    this.knownQueues = knownQueues(this.options.queues, served, this.registry);
    const db = await ZartDatabase.open(this.options.connection, this.options.schema);
    try {
      if (this.options.migrate) {
        const applied = await db.migrate();
        if (applied.length > 0) this.options.logger.info('applied migrations', { migrations: applied });
      }
    } catch (error) {
      await db.close();
      throw error;
    }
    this.db = db;
    this.starts = new GroupCommit((starts) => insertRuns(db, starts));
    this.wakeUps = new WakeUpPublisher(db, this.options.logger);
    this.stopCountingQueues = this.options.metrics?.addQueueCounter(() => this.countQueues(db));
  }

  /**
   * The Prometheus text of the metrics registry (zart's metrics and any others registered in it),
   * for an HTTP endpoint: `res.setHeader('Content-Type', contentType); res.end(body)`. Reading it
   * runs the scrape-time queries. ConfigurationError when the metrics option is off.
   */
  async metricsText(): Promise<MetricsText> {
    const { metrics } = this.options;
    if (!metrics) {
      throw new ConfigurationError(
        'Metrics are off: pass the metrics option (metrics: true, or metrics: { registry }) to new Zart() to collect them.',
      );
    }
    return metrics.text();
  }

  // The runs per queue for a scrape: the worker's own queues are reported even when empty. A
  // failure is logged, and the gauges are left out of that scrape rather than failing /metrics.
  private async countQueues(db: ZartDatabase): Promise<QueueRunCounts[]> {
    try {
      const counts = await countRunsByQueue(db);
      const seen = new Set(counts.map((c) => c.queue));
      const queues = this.options.worker ? this.options.worker.queues : [];
      for (const queue of queues) {
        if (!seen.has(queue)) counts.push({ queue, pending: 0, waiting: 0, running: 0, due: 0, oldestDueSeconds: 0 });
      }
      return counts;
    } catch (error) {
      this.options.logger.warn('counting runs per queue for the metrics failed; the queue gauges are left out', {
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  /**
   * Starts a run of `workflow` with `input`, validated against the workflow's input class first
   * (ValidationError, nothing written). Idempotent on `options.id`.
   */
  async startWorkflow<W extends WorkflowClass<never, unknown>>(
    workflow: W,
    ...args: WorkflowStartArguments<W, StartWorkflowOptions>
  ): Promise<WorkflowHandle<WorkflowOutput<W>>>;
  async startWorkflow<TOutput = unknown>(
    workflow: string,
    input?: unknown,
    options?: StartWorkflowOptions,
  ): Promise<WorkflowHandle<TOutput>>;
  async startWorkflow(
    workflow: WorkflowClass<never, unknown> | string,
    input?: unknown,
    options: StartWorkflowOptions = {},
  ): Promise<WorkflowHandle<unknown>> {
    const db = this.connected();
    checkCallOptions(options, 'startWorkflow(workflow, input, options)', "{ id: 'order-42' }");
    const definition = this.registry!.get(workflow);
    const id = options.id ?? randomUUID();
    checkRunId(id, 'startWorkflow({ id })');
    const placement = resolveRunPlacement(options, 'startWorkflow(workflow, input, options)');
    const queue = resolveRunQueue(
      options.queue,
      definition.queue,
      this.knownQueues,
      'startWorkflow(workflow, input, options)',
    );
    const prepared = await prepareInput(definition, input);
    const { serializer } = this.options;
    const encoded = serializer.encode(prepared, `the input of workflow "${definition.name}"`);
    const stored = await serializer.store(encoded, { runId: id, stepKey: null });
    const newRun = {
      id,
      workflow: definition.name,
      version: definition.version,
      queue,
      input: stored,
      timeoutMs: definition.timeoutMs,
    };
    // Where this process's worker has room, the run may start claimed by it (see insert-runs.ts).
    // Not in the caller's transaction: the run must not execute before that commits.
    const claim = options.manager ? null : this.claimAtStart(queue, placement);
    let claimedHere: StartedRun | undefined;
    const insert = async (traceContext: StoredTraceContext | null): ReturnType<typeof insertRun> => {
      const run = { ...newRun, traceContext };
      // In the caller's transaction the insert must be the caller's own statement.
      if (options.manager) return insertRun(db, run, placement, options.manager);
      const inserted = await this.starts!.write({ run, placement, claim });
      if (inserted?.claimedHere) claimedHere = { ...run, deadlineInMs: inserted.deadlineInMs };
      // Not inserted (the id or the key is taken): settled alone, with the caller's typed error.
      return inserted === null ? insertRun(db, run, placement) : { inserted: true, startsInMs: inserted.startsInMs };
    };
    // The run's executions, wherever they happen, continue the caller's trace under this start's span.
    const { tracing, metrics } = this.options;
    let result: Awaited<ReturnType<typeof insertRun>>;
    try {
      result = tracing ? await tracing.started(definition.name, id, insert) : await insert(null);
    } finally {
      if (claim) this.startedHere(claim, claimedHere);
    }
    if ('duplicateOf' in result) {
      throw new RunDeduplicatedError(definition.name, placement.deduplicationKey!, result.duplicateOf);
    }
    if (!result.inserted && result.workflow !== definition.name) {
      throw new RunIdConflictError(id, result.workflow, definition.name);
    }
    // In the caller's transaction the run may yet roll back: counted all the same, as started here.
    if (result.inserted) metrics?.runStarted(definition.name);
    // In the caller's transaction, the NOTIFY sent with the insert wakes workers at commit.
    if (result.inserted && !options.manager && !claimedHere) this.runStarted(id, queue, result.startsInMs);
    return this.getHandle(id, definition.name);
  }

  /** A handle on an existing run, e.g. in another process than the one that started it. */
  getHandle<TOutput = unknown>(id: string, workflow = ''): WorkflowHandle<TOutput> {
    return {
      id,
      workflow,
      result: (options?: ResultOptions) => this.waitForResult(id, options) as Promise<TOutput>,
      status: async () => (await this.requireRun(id, 'status()')).status,
    };
  }

  /** The run with `id`; RunNotFoundError if there is none. */
  async getRun(id: string): Promise<WorkflowRun> {
    return await this.toWorkflowRun(await this.requireRun(id));
  }

  /** Runs, newest first. */
  async listRuns(options: ListRunsOptions = {}): Promise<WorkflowRun[]> {
    const db = this.connected();
    checkCallOptions(options, 'listRuns(options)', "{ workflow: 'checkout', limit: 50 }");
    checkListRunsOptions(options);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const query = db.dataSource.getRepository(RunEntity).createQueryBuilder('run');
    if (options.workflow !== undefined) query.andWhere('run.workflow = :workflow', { workflow: options.workflow });
    if (options.status !== undefined) {
      const statuses = Array.isArray(options.status) ? options.status : [options.status];
      query.andWhere('run.status IN (:...statuses)', { statuses });
    }
    if (options.queue !== undefined) query.andWhere('run.queue = :queue', { queue: options.queue });
    if (options.parentId !== undefined) query.andWhere('run.parentId = :parentId', { parentId: options.parentId });
    if (options.idPrefix !== undefined) {
      // LIKE's wildcards in the prefix are matched literally.
      const pattern = `${options.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere("run.id LIKE :pattern ESCAPE '\\'", { pattern });
    }
    if (options.unserved === true) {
      // Unfinished runs of a version that no worker with a recent heartbeat claims (list-workers.ts).
      query.andWhere(
        `run.status IN ('pending', 'waiting', 'running') AND run.version IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM ${db.tables.workers} w
           WHERE w.heartbeat_at > now() - interval '1 minute' AND (w.versions IS NULL OR run.version = ANY(w.versions)))`,
      );
    }
    if (options.createdAfter !== undefined) query.andWhere('run.createdAt >= :createdAfter', options);
    if (options.createdBefore !== undefined) query.andWhere('run.createdAt < :createdBefore', options);
    if (options.after !== undefined) {
      checkExistingRunId(options.after, 'listRuns({ after })');
      const anchor = await this.requireRun(options.after);
      // Compared with the anchor's stored time, not its Date: a Date keeps milliseconds, the column
      // microseconds, and runs started in one statement a few microseconds apart were skipped.
      query.andWhere(
        `(run.createdAt, run.id) < (SELECT a.created_at, a.id FROM ${db.tables.runs} a WHERE a.id = :afterId)`,
        {
          afterId: anchor.id,
        },
      );
    }
    const rows = await query.orderBy('run.createdAt', 'DESC').addOrderBy('run.id', 'DESC').limit(limit).getMany();
    return Promise.all(rows.map((row) => this.toWorkflowRun(row)));
  }

  /** The checkpoints of a run in call order; RunNotFoundError if the run does not exist. */
  async getSteps(id: string): Promise<StepCheckpoint[]> {
    const db = this.connected();
    await this.requireRun(id, 'getSteps(id)');
    const rows = await db.dataSource
      .getRepository(StepCheckpointEntity)
      .find({ where: { runId: id }, order: { seq: 'ASC' } });
    const { serializer } = this.options;
    const output = async (row: StepCheckpointEntity): Promise<unknown> =>
      row.output === null
        ? undefined
        : serializer.load(row.output as StoredValue, `the output of step "${row.key}" of run "${id}"`);
    const outputs = await Promise.all(rows.map(output));
    return rows.map((row, index) => ({
      key: row.key,
      seq: row.seq,
      name: row.name,
      status: row.status,
      output: outputs[index],
      error: row.error === null ? undefined : serializer.deserialize(row.error as StoredValue),
      attempts: row.attempts,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      wakeAt: row.wakeAt,
    }));
  }

  /**
   * The run's history as JSON (the run, its input and every checkpoint in call order, values in
   * their stored form, large values inlined): save it and check new code against it with
   * `replayHistory()` from zart/testing before deploying. RunNotFoundError if the run does not exist.
   */
  async exportRun(id: string): Promise<RunHistory> {
    const db = this.connected();
    checkExistingRunId(id, 'exportRun(id)');
    const run = await this.requireRun(id, 'exportRun(id)');
    const rows = await db.dataSource
      .getRepository(StepCheckpointEntity)
      .find({ where: { runId: id }, order: { seq: 'ASC', key: 'ASC' } });
    const { serializer } = this.options;
    const calls: RunHistoryCall[] = rows.map((row) => ({
      key: row.key,
      seq: row.seq,
      sequential: row.sequential,
      completionSeq: row.completionSeq,
      name: row.name,
      argsHash: row.argsHash,
      status: row.status,
      output: row.output as StoredValue | null,
      error: row.error as StoredValue | null,
      finishedAt: row.finishedAt ? row.finishedAt.toISOString() : null,
      wakeAt: row.wakeAt ? row.wakeAt.toISOString() : null,
    }));
    await serializer.fetchOutputs(calls, id);
    const input =
      run.input === null ? null : await serializer.fetch(run.input as StoredValue, `the input of run "${id}"`);
    return {
      format: 'zart.run-history/1',
      run: { id, workflow: run.workflow, version: run.version, status: run.status, attempt: run.attempt, input },
      calls,
    };
  }

  /** The events sent to a run, in the order they were stored; RunNotFoundError if the run does not exist. */
  async getEvents(id: string): Promise<RunEvent[]> {
    const db = this.connected();
    checkExistingRunId(id, 'getEvents(id)');
    await this.requireRun(id, 'getEvents(id)');
    const rows = await db.dataSource
      .getRepository(EventEntity)
      .createQueryBuilder('event')
      .where('event.runId = :id', { id })
      .orderBy('event.id', 'ASC')
      .getMany();
    const { serializer } = this.options;
    return Promise.all(
      rows.map(async (row) => ({
        id: row.id,
        name: row.name,
        payload:
          row.payload === null
            ? undefined
            : await serializer.load(row.payload as StoredValue, `the payload of event "${row.name}" of run "${id}"`),
        createdAt: row.createdAt,
        consumedBy: row.consumedByKey,
      })),
    );
  }

  /**
   * Cancels a run and its children: they stop at their next step boundary, the abort signals of
   * their in-flight steps fire, no worker resumes them, and result() rejects with
   * WorkflowCancelledError. RunNotFoundError for an unknown run, InvalidRunStateError for a
   * finished one.
   */
  async cancel(id: string): Promise<void> {
    checkExistingRunId(id, 'cancel(id)');
    const { status, cancelled, workflows } = await cancelRuns(this.connected(), id);
    for (const workflow of workflows) this.options.metrics?.runFinished(workflow, 'cancelled');
    if (status === undefined) throw new RunNotFoundError(id);
    if (cancelled === 0) throw new InvalidRunStateError(id, status, 'cancel', 'pending, running or waiting');
  }

  /**
   * Sends an event to a run: buffered until a `waitForEvent(name)` of the run takes it, and the run
   * is woken at once if it waits for it. RunNotFoundError for an unknown run, InvalidRunStateError
   * for a finished one (nothing is written then).
   */
  async sendEvent(id: string, name: string, payload?: unknown): Promise<void> {
    const db = this.connected();
    checkExistingRunId(id, 'sendEvent(id)');
    checkEventName(name, 'sendEvent()');
    const { serializer } = this.options;
    const encoded = serializer.encode(payload, `the payload of event "${name}"`);
    const stored = await serializer.store(encoded, { runId: id, stepKey: null });
    const { eventId, status } = await insertEvent(db, { runId: id, name, payload: stored });
    if (status === undefined) throw new RunNotFoundError(id);
    if (eventId === null) throw new InvalidRunStateError(id, status, 'send an event to', 'pending, running or waiting');
    void this.wakeUps?.publish();
  }

  /**
   * Runs a failed or cancelled run again, keeping its completed checkpoints: the steps that failed
   * run again, `currentRun().attempt` goes up. InvalidRunStateError for runs in other states.
   */
  /**
   * Moves an unfinished run to code version `version`: workers serving that version claim it and
   * replay its history with their code (check it first with replayHistory() from zart/testing).
   * For runs no live worker serves (`listRuns({ unserved: true })`) after the old workers are gone.
   */
  async moveRun(id: string, options: { version: string }): Promise<void> {
    const db = this.connected();
    checkExistingRunId(id, 'moveRun(id)');
    checkCallOptions(options, 'moveRun(id, options)', "{ version: '2.0.0' }");
    if (typeof options.version !== 'string' || options.version.trim().length === 0) {
      throw new ConfigurationError(
        `moveRun(id, { version }) needs a version string, got ${showValue(options.version)}. Pass the version of the workers that should take the run.`,
      );
    }
    if (!(await moveRun(db, id, options.version))) {
      const run = await this.requireRun(id);
      throw new InvalidRunStateError(id, run.status, 'move', 'pending, waiting, running or failed');
    }
    void this.wakeUps?.publish();
  }

  async resume<TOutput = unknown>(id: string): Promise<WorkflowHandle<TOutput>> {
    const db = this.connected();
    checkExistingRunId(id, 'resume(id)');
    const resumed = await resumeRun(db, id).catch(async (error: unknown) => {
      // Its de-duplication key is held by another live run now: runs_deduplication_idx refuses.
      if ((error as { constraint?: unknown }).constraint !== 'runs_deduplication_idx') throw error;
      const run = await this.requireRun(id);
      const live = await db.dataSource.getRepository(RunEntity).findOne({
        where: {
          workflow: run.workflow,
          deduplicationKey: run.deduplicationKey!,
          status: In(['pending', 'running', 'waiting']),
        },
        select: { id: true },
      });
      throw new RunDeduplicatedError(run.workflow, run.deduplicationKey!, live?.id ?? '');
    });
    if (!resumed) {
      const run = await this.requireRun(id);
      throw new InvalidRunStateError(id, run.status, 'resume', 'failed or cancelled');
    }
    void this.wakeUps?.publish();
    const run = await this.requireRun(id);
    return this.getHandle<TOutput>(id, run.workflow);
  }

  /**
   * Starts a new run of the same workflow and input that reuses the checkpoints of run `id` taken
   * before step `fromStep` (a step key such as `'charge#0'`, see getSteps()) and executes from that
   * step on. Default id of the new run: `<id>-fork-<uuid>`.
   */
  async fork<TOutput = unknown>(id: string, options: ForkOptions): Promise<WorkflowHandle<TOutput>> {
    const db = this.connected();
    checkExistingRunId(id, 'fork(id)');
    checkCallOptions(options, 'fork(id, options)', "{ fromStep: 'charge#0' }");
    checkStepKey(options.fromStep, 'fork({ fromStep })');
    const newId = options.id ?? `${id}-fork-${randomUUID()}`;
    checkRunId(newId, 'fork({ id })');
    const { tracing, metrics } = this.options;
    const fork = (traceContext: StoredTraceContext | null): ReturnType<typeof forkRun> =>
      forkRun(db, { sourceId: id, newId, fromStep: options.fromStep, traceContext });
    // Traced as a start of the source's workflow: read it first (only with tracing on).
    const forking = tracing
      ? tracing.started((await this.requireRun(id, 'fork(id)')).workflow, newId, fork)
      : fork(null);
    const { sourceExists, forked } = await forking.catch(async (error: unknown) => {
      if ((error as { code?: unknown }).code !== '23505') throw error;
      const [source, taken] = await Promise.all([this.requireRun(id), this.requireRun(newId)]);
      throw new RunIdConflictError(
        newId,
        taken.workflow,
        source.workflow,
        `A run with id "${newId}" exists already; pass fork() another id.`,
      );
    });
    if (!sourceExists) throw new RunNotFoundError(id);
    if (!forked) {
      const keys = (await this.getSteps(id)).map((step) => step.key);
      throw new ConfigurationError(
        `Run "${id}" has no step "${options.fromStep}" to fork from; its steps are: ${keys.join(', ') || 'none'}.`,
      );
    }
    void this.wakeUps?.publish();
    const workflow = (await this.requireRun(newId)).workflow;
    metrics?.runStarted(workflow);
    return this.getHandle<TOutput>(newId, workflow);
  }

  /**
   * Starts a run of `workflow` with `input` at every tick of `cron` (5 fields, or 6 with seconds
   * first, read in `options.timezone`), exactly once per tick across all worker processes; a run's
   * id is `schedule:<name>:<ISO tick>` and its first now() returns the tick's time. A schedule with
   * this name is replaced (a paused one stays paused). The cron expression, time zone and options
   * are checked (InvalidScheduleError) and the input validated (ValidationError) before anything is
   * written. Worker processes that register the workflow fire the ticks.
   */
  async schedule<W extends WorkflowClass<never, unknown>>(
    name: string,
    cron: string,
    workflow: W,
    ...args: WorkflowStartArguments<W, ScheduleOptions>
  ): Promise<ScheduleInfo>;
  async schedule(
    name: string,
    cron: string,
    workflow: string,
    input?: unknown,
    options?: ScheduleOptions,
  ): Promise<ScheduleInfo>;
  async schedule(
    name: string,
    cron: string,
    workflow: WorkflowClass<never, unknown> | string,
    input?: unknown,
    options: ScheduleOptions = {},
  ): Promise<ScheduleInfo> {
    const db = this.connected();
    const services = { db, registry: this.registry!, serializer: this.options.serializer };
    await storeSchedule(services, { name, cron, workflow, input, options, declaredBy: 'api' });
    await notifySchedulesChanged(db);
    this.schedulesChanged();
    return this.requireSchedule(name);
  }

  /** Removes a schedule; runs it started are kept. Returns false when there was none. */
  async unschedule(name: string): Promise<boolean> {
    checkScheduleName(name);
    return deleteSchedule(this.connected(), name);
  }

  /** Stops a schedule's ticks until resume(); ScheduleNotFoundError if there is none. */
  async pauseSchedule(name: string): Promise<ScheduleInfo> {
    checkScheduleName(name);
    if (!(await pauseSchedule(this.connected(), name))) throw new ScheduleNotFoundError(name);
    return this.requireSchedule(name);
  }

  /**
   * Ticks a paused schedule again from the next tick on: ticks that came while it was paused start
   * nothing. ScheduleNotFoundError if there is none.
   */
  async resumeSchedule(name: string): Promise<ScheduleInfo> {
    checkScheduleName(name);
    const db = this.connected();
    const row = await getScheduleRow(db, name);
    if (!row) throw new ScheduleNotFoundError(name);
    const cron = CronExpression.compile(name, row.cron, row.timezone);
    const next = cron.nextAfter(await readDatabaseNow(db)) ?? row.nextTickAt;
    if (!(await resumeSchedule(db, name, next))) throw new ScheduleNotFoundError(name);
    await notifySchedulesChanged(db);
    this.schedulesChanged();
    return this.requireSchedule(name);
  }

  /** Every schedule, by name: its cron, time zone, policies, next and last tick, and whether it is paused. */
  async listSchedules(): Promise<ScheduleInfo[]> {
    return (await listScheduleRows(this.connected())).map(toScheduleInfo);
  }

  /** The schedule named `name`; ScheduleNotFoundError if there is none. */
  async getSchedule(name: string): Promise<ScheduleInfo> {
    checkScheduleName(name);
    return this.requireSchedule(name);
  }

  private async requireSchedule(name: string): Promise<ScheduleInfo> {
    const row = await getScheduleRow(this.connected(), name);
    if (!row) throw new ScheduleNotFoundError(name);
    return toScheduleInfo(row);
  }

  /** @internal A schedule was added or resumed here: Zart's ticker looks at once. */
  protected schedulesChanged(): void {}

  /** Live worker processes (heartbeat within the last minute, by the database clock). */
  async listWorkers(): Promise<WorkerInfo[]> {
    return listWorkers(this.connected());
  }

  /**
   * Deletes finished runs (completed, failed, cancelled) that finished more than `olderThan` ago,
   * with their checkpoints and events, in batches of `batchSize` (default 1,000). Returns the count.
   */
  async deleteFinishedRuns(options: DeleteFinishedRunsOptions): Promise<number> {
    const db = this.connected();
    checkCallOptions(options, 'deleteFinishedRuns(options)', "{ olderThan: '30d' }");
    const olderThanMs = parseDuration(options.olderThan, 'deleteFinishedRuns({ olderThan })');
    const batchSize = options.batchSize ?? 1_000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ConfigurationError(
        `deleteFinishedRuns({ batchSize }) must be a positive integer, got ${String(batchSize)}.`,
      );
    }
    let total = 0;
    for (;;) {
      const deleted = await deleteFinishedRuns(db, olderThanMs, batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }

  /**
   * Closes the connection pool; pending result() calls reject. Concurrent and repeated calls
   * share one shutdown; the instance cannot be started again.
   */
  async shutdown(): Promise<void> {
    return this.stopOnce(() => Promise.resolve());
  }

  /**
   * @internal Runs `beforeClose` and closes the connection, once per instance. A start() in flight
   * is awaited first (its failure does not matter here), so nothing it opens is left behind.
   */
  protected stopOnce(beforeClose: () => Promise<void>): Promise<void> {
    this.stopping ??= (async () => {
      this.closing.abort();
      await this.starting?.catch(() => undefined);
      this.closing.abort();
      await beforeClose();
      await this.closeConnection();
    })();
    return this.stopping;
  }

  /** Sends the wake-ups still pending, then closes the pool: nothing is sent on a closed pool. */
  private async closeConnection(): Promise<void> {
    const db = this.db;
    const wakeUps = this.wakeUps;
    this.stopCountingQueues?.();
    this.stopCountingQueues = undefined;
    this.db = undefined;
    this.wakeUps = undefined;
    await wakeUps?.close();
    await db?.close();
  }

  /** @internal Whether this class runs a worker (Zart) or not (ZartClient). */
  protected hasWorker(): boolean {
    return false;
  }

  /**
   * @internal Asks this process's worker to execute a run about to be started, at once: the claim
   * to insert it with, or null. A client executes nothing.
   */
  protected claimAtStart(_queue: string, _placement: RunPlacement): StartClaim | null {
    return null;
  }

  /**
   * @internal After a start that claimAtStart() gave `claim`: `run` is the run when it was inserted
   * claimed (execute it now), undefined when it was not (the claim's room is free again).
   */
  protected startedHere(_claim: StartClaim, _run: StartedRun | undefined): void {}

  /**
   * @internal Called after a new run row is committed: wake the workers (coalesced per tick). A
   * delayed run is found by the workers' poll (and by this process's timer, see Zart).
   */
  protected runStarted(_id: string, _queue: string, _startsInMs: number): void {
    void this.wakeUps?.publish();
  }

  /**
   * @internal Resolves after `ms`, or earlier when this process sees the run finish; then with the
   * outcome its worker recorded, which saves reading it back.
   */
  protected async waitForChange(_id: string, pauseMs: number, _maxMs: number): Promise<RunOutcomeRow | undefined> {
    await delay(pauseMs, undefined, { signal: this.closing.signal }).catch(() => undefined);
    return undefined;
  }

  /**
   * @internal The outcome of a run this process executes, awaited before result() first reads the
   * run; undefined: read it. A client executes nothing.
   */
  protected outcomeFromHere(_id: string, _maxMs: number): Promise<RunOutcomeRow | undefined> {
    return Promise.resolve(undefined);
  }

  /** @internal */
  protected connected(): ZartDatabase {
    if (!this.db)
      throw new ConfigurationError('Zart is not started: await zart.start() before using it (or it was shut down).');
    return this.db;
  }

  private async waitForResult(id: string, options: ResultOptions = {}): Promise<unknown> {
    checkCallOptions(options, 'result(options)', "{ timeout: '30s' }");
    checkExistingRunId(id, 'result()');
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'result({ timeout })');
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const { serializer } = this.options;
    // Polls with back-off from 10 ms to 1 s; a run finished by this process wakes it at once,
    // with the outcome in hand.
    let finishedHere = await this.outcomeFromHere(id, Math.max(0, deadline - Date.now()));
    for (let pause = 10; ; pause = Math.min(pause * 2, 1_000)) {
      if (this.closing.signal.aborted) throw new ShutdownError(id);
      let row: RunOutcomeRow | undefined | null = finishedHere;
      try {
        row ??= await readRunOutcome(this.connected(), id);
      } catch (error) {
        // A dropped connection or a restarting server: keep waiting, the run is still there.
        if (!isConnectionError(error)) throw error;
        row = null;
      }
      if (row === undefined) throw new RunNotFoundError(id);
      if (row?.status === 'completed') return serializer.load(row.output, `the output of run "${id}"`);
      if (row?.status === 'failed') {
        const error = serializer.deserialize(row.error);
        // A run that passed its deadline rejects with that, as a cancelled one does with its own.
        if (error instanceof DeadlineExceededError && error.runId === id) throw error;
        throw new WorkflowFailedError(id, error);
      }
      if (row?.status === 'cancelled') throw new WorkflowCancelledError(id);
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(`run "${id}" to finish`, timeoutMs ?? 0);
      finishedHere = await this.waitForChange(id, Math.min(pause, left), left);
    }
  }

  private async requireRun(id: string, where = 'getRun(id)'): Promise<RunEntity> {
    checkExistingRunId(id, where);
    const row = await this.connected().dataSource.getRepository(RunEntity).findOneBy({ id });
    if (!row) throw new RunNotFoundError(id);
    return row;
  }

  private async toWorkflowRun(row: RunEntity): Promise<WorkflowRun> {
    const { serializer } = this.options;
    const value = async (stored: unknown, what: string): Promise<unknown> =>
      stored === null ? undefined : serializer.load(stored as StoredValue, what);
    const [input, output, error] = await Promise.all([
      value(row.input, `the input of run "${row.id}"`),
      value(row.output, `the output of run "${row.id}"`),
      value(row.error, `the error of run "${row.id}"`),
    ]);
    return {
      id: row.id,
      workflow: row.workflow,
      version: row.version,
      status: row.status,
      queue: row.queue,
      priority: row.priority,
      input,
      output,
      error,
      attempt: row.attempt,
      recoveries: row.recoveries,
      parentId: row.parentId,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      scheduledAt: row.scheduledAt,
    };
  }
}

/** The filters of listRuns(): a bad one is a ConfigurationError, not a driver error or a silent no-match. */
function checkListRunsOptions(options: ListRunsOptions): void {
  const { workflow, status, limit } = options;
  if (workflow !== undefined && (typeof workflow !== 'string' || workflow.includes('\u0000'))) {
    throw new ConfigurationError(
      `listRuns({ workflow }) must be a workflow name without NUL bytes, got ${showValue(workflow)}. Pass a registered workflow's name.`,
    );
  }
  const statuses: unknown[] = status === undefined ? [] : Array.isArray(status) ? status : [status];
  if (statuses.some((s) => !runStatuses.includes(s as RunStatus))) {
    throw new ConfigurationError(
      `listRuns({ status }) must be one or an array of ${runStatuses.join(', ')}, got ${showValue(status)}. Pass known statuses.`,
    );
  }
  for (const name of ['queue', 'parentId', 'idPrefix'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value.includes('\u0000'))) {
      throw new ConfigurationError(
        `listRuns({ ${name} }) must be a string without NUL bytes, got ${showValue(value)}.`,
      );
    }
  }
  for (const name of ['createdAfter', 'createdBefore'] as const) {
    const value = options[name];
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw new ConfigurationError(`listRuns({ ${name} }) must be a valid Date, got ${showValue(value)}.`);
    }
  }
  if (limit !== undefined && !Number.isInteger(limit)) {
    throw new ConfigurationError(
      `listRuns({ limit }) must be an integer (1 to 1000), got ${showValue(limit)}. Pass a whole number.`,
    );
  }
}

// What start() throws: Zart's own errors as they are; a connection that kept failing past the
// start-up window as ConfigurationError naming the server and the option; anything else as is.
function startFailure(error: unknown, server: string, connectTimeoutMs: number): unknown {
  if (error instanceof ConfigurationError || !isTransientError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConfigurationError(
    `Zart could not start: the connection to PostgreSQL at ${server} kept failing for connectTimeout ` +
      `(${connectTimeoutMs} ms): ${message}. Check that the server is up, or raise the connectTimeout option.`,
    { cause: error },
  );
}
