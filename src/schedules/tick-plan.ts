// Decides, for one schedule at one moment, which ticks start a run: the catch-up policy picks
// among the ticks that came since the last pass, then the overlap policy holds some of them back.
// Pure: the ticker feeds it the row it locked and the database clock.
import type { CronExpression } from './cron-expression';
import type { CatchUpPolicy, OverlapPolicy } from './schedule-options';

/**
 * A tick fired at most this late is on time; older ones were missed (no worker process ran, or
 * none kept up) and the catch-up policy decides about them. Far above a ticker's latency under
 * load, far below the spacing of schedules where a late run would surprise (hourly, daily).
 */
export const onTimeWindowMs = 60_000;

/** @internal What the ticker knows about a schedule when it has locked its row. */
export interface TickState {
  readonly cron: CronExpression;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  readonly maxCatchUp: number;
  /** The first tick not yet fired or skipped. */
  readonly nextTickAt: Date;
  /** bufferOne: the tick held back for the live run. */
  readonly bufferedTickAt: Date | null;
  /** Whether the run of the last fired tick is still pending, running or waiting. */
  readonly lastRunLive: boolean;
  /** The database clock. */
  readonly now: Date;
}

/** @internal */
export interface TickPlan {
  /** Ticks that start a run now, oldest first. */
  readonly fire: Date[];
  /** Missed ticks the catch-up policy does not run (a lower bound after a long downtime). For logs. */
  readonly missed: number;
  /** Ticks the overlap policy skipped. For logs. */
  readonly skipped: number;
  /** The newest tick that came (fired or not), or null when none came. */
  readonly lastTickAt: Date | null;
  readonly bufferedTickAt: Date | null;
  /** The first tick after now. */
  readonly nextTickAt: Date | null;
}

/** @internal */
export function planTicks(state: TickState): TickPlan {
  const { cron, now } = state;
  // The ticks that came: [nextTickAt, now]. Only the latest few can fire (the current one and
  // what the catch-up policy runs), so only those are enumerated, however long the downtime was.
  const enumerated = state.catchUp === 'all' ? state.maxCatchUp + 1 : 2;
  const due = latestTicks(cron, state.nextTickAt, now, enumerated);
  const newest = due.at(-1);
  const onTime = newest !== undefined && now.getTime() - newest.getTime() <= onTimeWindowMs ? newest : undefined;
  const missed = onTime ? due.slice(0, -1) : due;
  const caughtUp =
    state.catchUp === 'all' ? missed.slice(-state.maxCatchUp) : state.catchUp === 'latest' ? missed.slice(-1) : [];
  const candidates = onTime ? [...caughtUp, onTime] : caughtUp;

  const fire: Date[] = [];
  let live = state.lastRunLive;
  let buffered = state.bufferedTickAt;
  if (buffered && !live) {
    fire.push(buffered);
    buffered = null;
    live = true;
  }
  const notCaughtUp = due.length - candidates.length;
  let skipped = 0;
  for (const tick of candidates) {
    if (state.overlap === 'allowAll' || !live) {
      fire.push(tick);
      live = true;
    } else if (state.overlap === 'bufferOne' && buffered === null) {
      buffered = tick;
    } else {
      skipped++;
    }
  }
  return {
    fire,
    missed: notCaughtUp,
    skipped,
    lastTickAt: newest ?? null,
    bufferedTickAt: buffered,
    nextTickAt: cron.nextAfter(now),
  };
}

// The latest `limit` ticks in [from, until], oldest first.
function latestTicks(cron: CronExpression, from: Date, until: Date, limit: number): Date[] {
  if (from > until) return [];
  return cron.ticksBefore(new Date(until.getTime() + 1), limit).filter((tick) => tick >= from);
}
