// The ticker of one worker process: sleeps until the earliest tick of any active schedule (from
// the database clock), then fires what is due in one transaction (fire-schedule-ticks.ts). Every
// worker process runs one; row locks with SKIP LOCKED make exactly one of them decide each
// schedule's tick, and the tick's run id makes a second insert of it impossible. Between ticks a
// ticker asks one cheap question at most every few seconds, so schedules added or resumed by
// another process are seen without a polling storm.
import { setTimeout as delay } from 'node:timers/promises';
import type { ZartLogger } from '../logging/zart-logger';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import {
  advanceSchedule,
  insertScheduledRuns,
  lockDueSchedules,
  nextScheduleDue,
  type DueScheduleRow,
} from '../storage/sql/fire-schedule-ticks';
import { notifyWakeUp } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';
import { CronExpression } from './cron-expression';
import { scheduledRunId, type CatchUpPolicy, type OverlapPolicy } from './schedule-options';
import { planTicks } from './tick-plan';

// The longest sleep between two looks at the schedules table: a schedule created or resumed by
// another process fires its first tick at most this late (its catch-up policy covers the rest).
const maxSleepMs = 5_000;
// Schedules decided per transaction; more are taken in the next pass at once.
const batchSize = 50;
const liveStatuses = new Set(['pending', 'running', 'waiting']);

/** @internal */
export class ScheduleTicker {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  private wake: AbortController | undefined;
  private readonly compiled = new Map<string, CronExpression>();
  private readonly reportedBroken = new Set<string>();
  private failures = 0;

  constructor(
    private readonly db: ZartDatabase,
    private readonly registry: WorkflowRegistry,
    private readonly logger: ZartLogger,
    /** How often to look while a tick is buffered behind a live run. */
    private readonly pollIntervalMs: number,
  ) {}

  start(): void {
    if (this.running || this.registry.names.length === 0) return;
    this.running = true;
    this.loop = this.tickLoop();
  }

  /** Looks at the schedules now (a schedule was added, changed or resumed in this process). */
  nudge(): void {
    this.wake?.abort();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped.abort();
    await this.loop;
  }

  private async tickLoop(): Promise<void> {
    while (this.running) {
      let sleepMs = maxSleepMs;
      try {
        // A full batch means more may be due: go again at once.
        while (this.running && (await this.firePass()) === batchSize);
        const { inMs, buffered } = await nextScheduleDue(this.db, this.registry.names);
        // Due but not fired: another process holds the row this moment, or the row cannot be read.
        if (inMs !== null) sleepMs = Math.min(sleepMs, inMs > 0 ? inMs : 100);
        if (buffered) sleepMs = Math.min(sleepMs, this.pollIntervalMs);
        this.failures = 0;
      } catch (error) {
        // Logged on the first failure and then every tenth, not once per pass.
        if (this.failures++ % 10 === 0) {
          this.logger.error('firing schedule ticks failed; retrying', { error: describe(error) });
        }
        sleepMs = Math.min(maxSleepMs, this.pollIntervalMs * Math.min(this.failures, 5));
      }
      if (!this.running) break;
      this.wake = new AbortController();
      const signal = AbortSignal.any([this.stopped.signal, this.wake.signal]);
      // A timer fires a little early or late; a tick fired a few ms early would be "not due" yet.
      await delay(sleepMs + 2, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One transaction: decides every due schedule it could lock; returns how many it locked. */
  private async firePass(): Promise<number> {
    const inserted: string[] = [];
    const locked = await this.db.transaction(async (query) => {
      const rows = await lockDueSchedules(this.db, query, this.registry.names, batchSize);
      for (const row of rows) {
        const cron = this.cronOf(row);
        if (!cron) continue;
        const plan = planTicks({
          cron,
          overlap: row.overlap as OverlapPolicy,
          catchUp: row.catchUp as CatchUpPolicy,
          maxCatchUp: row.maxCatchUp,
          nextTickAt: row.nextTickAt,
          bufferedTickAt: row.bufferedTickAt,
          lastRunLive: row.lastRunStatus !== null && liveStatuses.has(row.lastRunStatus),
          now: row.now,
        });
        const definition = this.registry.get(row.workflow);
        const ids = plan.fire.map((tick) => scheduledRunId(row.name, tick));
        if (ids.length > 0) {
          inserted.push(
            ...(await insertScheduledRuns(this.db, query, {
              ids,
              ticks: plan.fire,
              workflow: definition.name,
              version: definition.version,
              queue: definition.queue,
              input: row.input,
              timeoutMs: definition.timeoutMs,
            })),
          );
        }
        await advanceSchedule(this.db, query, {
          name: row.name,
          // A cron with no tick left (a year field in the past) is parked far away.
          nextTickAt: plan.nextTickAt ?? new Date('9999-12-31T00:00:00Z'),
          lastTickAt: plan.lastTickAt,
          lastRunId: ids.at(-1) ?? null,
          bufferedTickAt: plan.bufferedTickAt,
        });
        // Missed ticks are news (downtime, a stalled process); overlap skips are the policy at work.
        if (plan.missed > 0) {
          this.logger.info('schedule ticks were missed and not run', {
            schedule: row.name,
            missedAtLeast: plan.missed,
            catchUp: row.catchUp,
          });
        }
        if (plan.skipped > 0) {
          this.logger.debug('schedule ticks skipped: the last run is still live', {
            schedule: row.name,
            skipped: plan.skipped,
            overlap: row.overlap,
          });
        }
      }
      return rows.length;
    });
    // After the commit, never inside it (see notify-wake-up.ts).
    if (inserted.length > 0) {
      this.logger.debug('schedule ticks fired', { runs: inserted.length });
      await notifyWakeUp(this.db);
    }
    return locked;
  }

  // A row this version cannot read (changed by hand, a time zone this Node lacks) is reported
  // once and left alone; the other schedules go on.
  private cronOf(row: DueScheduleRow): CronExpression | undefined {
    const key = `${row.cron}\u0000${row.timezone}`;
    let cron = this.compiled.get(key);
    if (!cron) {
      try {
        cron = CronExpression.compile(row.name, row.cron, row.timezone);
      } catch (error) {
        if (!this.reportedBroken.has(row.name)) {
          this.reportedBroken.add(row.name);
          this.logger.error('a schedule cannot be read; its ticks do not fire', {
            schedule: row.name,
            error: describe(error),
          });
        }
        return undefined;
      }
      this.compiled.set(key, cron);
    }
    return cron;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
