// Inserts the runs of several concurrent startWorkflow() calls in one statement (group commit,
// storage/group-commit.ts). A run whose id or de-duplication key is taken is skipped, not waited
// on with a retry here: its caller settles it alone with insert-run.ts, which tells an existing
// run, a live duplicate and a lost race apart, so every caller still gets its own typed answer.
// A start made where a worker has room for the run may come already claimed by that worker (its
// lease, epoch 1): it then executes at once, without a claim round trip, unless a run that is due
// waits in its queue at its priority or above, which must go first.
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { ClaimedRun } from './claim-runs';
import type { NewRun, RunPlacement } from './insert-run';

/** One start of the batch. */
export interface StartingRun {
  run: NewRun;
  placement: RunPlacement;
  /** The worker of this process asks to execute the run at once. */
  claim: StartClaim | null;
}

/**
 * A worker's claim on runs it starts: its id, the lease it takes (as a claim takes one), and the
 * slots it holds for them (one for a run; up to one per child for a batch, insert-child-runs.ts).
 */
export interface StartClaim {
  owner: string;
  leaseMs: number;
  slots: number;
}

/** A run inserted claimed by the starting worker (epoch 1), with its deadline by the database clock. */
export interface StartedRun extends NewRun {
  deadlineInMs: number | null;
}

/** A run inserted claimed by the starting worker, as a claim would have handed it over: a fresh first claim. */
export function claimedAtStart(run: StartedRun, parentId: string | null): ClaimedRun {
  return {
    id: run.id,
    workflow: run.workflow,
    // As a claim reads it back from its JSON column, so the execution sees the stored form.
    input: JSON.parse(JSON.stringify(run.input) ?? 'null') as StoredValue,
    attempt: 1,
    parentId,
    leaseEpoch: 1,
    deadlineInMs: run.deadlineInMs,
    recoveries: 0,
    queue: run.queue,
    traceContext: run.traceContext,
    dueForSeconds: 0,
    scheduledAt: null,
    fresh: true,
  };
}

/** What the batch did with one start. */
export type InsertedStart =
  /** Not inserted: the id or the de-duplication key is taken (settle it with insertRun()). */
  | null
  /** Inserted pending: claimable in `startsInMs`. */
  | { claimedHere: false; startsInMs: number }
  /** Inserted running, leased to the asking worker (epoch 1): its deadline, database clock. */
  | { claimedHere: true; startsInMs: 0; deadlineInMs: number | null };

// A start's columns, in the order of the batch's JSON objects and of a lone start's parameters.
const startColumns = [
  ['id', 'text'],
  ['workflow', 'text'],
  ['version', 'text'],
  ['queue', 'text'],
  ['input', 'json'],
  ['timeout_ms', 'float8'],
  ['priority', 'int'],
  ['partition_key', 'text'],
  ['deduplication_key', 'text'],
  ['start_at', 'timestamptz'],
  ['delay_ms', 'float8'],
  ['trace_context', 'json'],
  ['claim_owner', 'text'],
  ['lease_ms', 'float8'],
] as const;
type StartRow = Record<(typeof startColumns)[number][0], unknown>;

// As insert-run.ts, row by row: a delayed run's deadline counts from its start. A claimed start
// is set as a claim sets a run (claim-runs.ts): running, leased, started now; the due runs ahead
// of it are found through runs_claimable_idx, as the claim finds them. MATERIALIZED: inlined,
// the claim's NOT EXISTS was evaluated again for each of the five columns that read it.
// `starts` yields the starts as rows `b` with startColumns.
const insertSqlFrom = (starts: string) => (t: { runs: string }) => `
WITH batch AS MATERIALIZED (
  SELECT b.*, coalesce(b.start_at, now() + make_interval(secs => coalesce(b.delay_ms, 0) / 1000)) AS at,
         b.claim_owner IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM ${t.runs} q
           WHERE q.status IN ('pending', 'waiting') AND q.available_at <= now()
             AND q.queue = b.queue AND q.priority >= b.priority
         ) AS claimed
  FROM ${starts}
)
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at, deadline_at,
                       priority, partition_key, deduplication_key, trace_context,
                       lease_owner, lease_epoch, lease_expires_at, started_at)
SELECT id, workflow, version, CASE WHEN claimed THEN 'running' ELSE 'pending' END, queue, input, at,
       CASE WHEN timeout_ms IS NULL THEN NULL
            ELSE greatest(at, now()) + make_interval(secs => timeout_ms / 1000) END,
       priority, partition_key, deduplication_key, trace_context,
       CASE WHEN claimed THEN claim_owner END, CASE WHEN claimed THEN 1 ELSE 0 END,
       CASE WHEN claimed THEN now() + make_interval(secs => lease_ms / 1000) END,
       CASE WHEN claimed THEN now() END
FROM batch
ON CONFLICT DO NOTHING
RETURNING id, workflow, status = 'running' AS "claimedHere",
          greatest(0, extract(epoch FROM available_at - now()) * 1000)::float8 AS "startsInMs",
          (extract(epoch FROM deadline_at - now()) * 1000)::float8 AS "deadlineInMs"`;

// Several starts as one JSON array: one JSON.stringify in Node, as for checkpoints.
const insertSql = insertSqlFrom(
  `json_to_recordset($1::json) AS b(${startColumns.map(([name, type]) => `${name} ${type}`).join(', ')})`,
);
// A lone start (the common case: one request starts one run) as plain parameters: parsing a
// one-element JSON array cost it 0.06 ms of its round trip, 0.39 against 0.46 ms, on a connection
// idle since the last run (bench W1).
const insertOneSql = insertSqlFrom(
  `(SELECT ${startColumns.map(([name, type], i) => `$${i + 1}::${type} AS ${name}`).join(', ')}) AS b`,
);

/** For each start, in order: what became of it (see InsertedStart). */
export async function insertRuns(db: ZartDatabase, starts: readonly StartingRun[]): Promise<InsertedStart[]> {
  const batch = starts.map(startRow);
  const alone = batch.length === 1;
  const { rows } = await db.query<{
    id: string;
    workflow: string;
    claimedHere: boolean;
    startsInMs: number;
    deadlineInMs: number | null;
  }>(
    db.sql(alone ? insertOneSql : insertSql),
    alone ? loneStartValues(batch[0]!) : [JSON.stringify(batch)],
    db.statementName(alone ? 'zart_insert_run_alone' : 'zart_insert_runs'),
  );
  // Two starts of one id in a batch insert one row: it answers the first of them with the same
  // workflow; the other finds the run with insertRun(), as a second start of the id does.
  const inserted = new Map(rows.map((row) => [row.id, row]));
  return starts.map(({ run }) => {
    const row = inserted.get(run.id);
    if (row?.workflow !== run.workflow) return null;
    inserted.delete(run.id);
    return row.claimedHere
      ? { claimedHere: true, startsInMs: 0, deadlineInMs: row.deadlineInMs }
      : { claimedHere: false, startsInMs: row.startsInMs };
  });
}

// One start as a row of startColumns; a JSON null in it is SQL NULL.
function startRow({ run, placement, claim }: StartingRun): StartRow {
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    queue: run.queue,
    input: run.input ?? null,
    timeout_ms: run.timeoutMs,
    priority: placement.priority,
    partition_key: placement.partitionKey,
    deduplication_key: placement.deduplicationKey,
    start_at: placement.startAt,
    delay_ms: placement.delayMs,
    trace_context: run.traceContext,
    claim_owner: claim?.owner ?? null,
    lease_ms: claim?.leaseMs ?? null,
  };
}

// A lone start's parameters, in startColumns' order: its JSON columns as text, as the batch sends them.
function loneStartValues(start: StartRow): unknown[] {
  return startColumns.map(([name, type]) => {
    const value = start[name];
    return type === 'json' && value !== null ? JSON.stringify(value) : value;
  });
}
