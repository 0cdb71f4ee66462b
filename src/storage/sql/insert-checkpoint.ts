// Writes one step checkpoint in one round trip, fenced on the run's lease: the INSERT takes its
// run_id from a CTE that only yields a row while this worker still holds the lease, so a zombie's
// write inserts nothing. The statement is built once by TypeORM's QueryBuilder from
// StepCheckpointEntity's metadata and then executed as a named prepared statement on the pool:
// building it per step through TypeORM doubled the cost of a step (1.28 ms vs 0.55 ms median,
// measured with bench/w1-step-latency.ts, see docs/performance.md).
import type { EntityManager } from 'typeorm';
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import { StepCheckpointEntity, type StepStatus } from '../entities';
import type { ZartDatabase } from '../zart-database';

/** What a checkpoint row holds of a call, as written and as read back (load-checkpoints.ts). */
export interface CheckpointFields {
  key: string;
  /** Position in the run's call order. */
  seq: number;
  /** The order the call completed in among the run's calls (engine/completion-order.ts); null when not final. */
  completionSeq: number | null;
  name: string;
  /** Hash of a decorated step's arguments, checked on replay; null for inline steps. */
  argsHash: string | null;
  status: StepStatus;
  output: StoredValue | null;
  error: StoredValue | null;
  attempts: number;
}

export interface NewCheckpoint extends CheckpointFields {
  /** Whether a replay checks this call's position (see engine/call-sequence.ts). */
  sequential: boolean;
  /** How long the step took, by the worker's monotonic clock; started_at = now() - duration. */
  durationMs: number;
  /**
   * A row of this call may be stored already, still open (a retry, sleep or wait recorded
   * before): written with an upsert. Otherwise a plain insert, which falls back to the upsert when
   * a row is there after all (a write retried after its reply was lost).
   */
  replacesOpenRow: boolean;
}

/** A checkpoint with the lease it is fenced on. */
export interface LeasedCheckpoint {
  lease: RunLease;
  checkpoint: NewCheckpoint;
}

/** The lease a write is fenced on: the run, the worker holding it, and the claim's epoch. */
export interface RunLease {
  runId: string;
  owner: string;
  epoch: number;
}

const parameters = [
  'runId',
  'owner',
  'epoch',
  'key',
  'seq',
  'sequential',
  'completionSeq',
  'name',
  'argsHash',
  'status',
  'output',
  'error',
  'attempts',
  'durationSeconds',
] as const;
type Parameter = (typeof parameters)[number];

interface CompiledInsert {
  name: string;
  text: string;
  /** Which value goes into $1, $2, ... */
  order: Parameter[];
}

// FOR SHARE makes a concurrent claim (an UPDATE of the run row) wait for this insert to commit,
// so the new owner's replay sees the checkpoint; after the claim, the fence yields no row. Most
// checkpoints are a call's first row and go without ON CONFLICT: its speculative insertion made
// the statement 10-30% slower on the server (pgbench, one connection), a step's whole latency.
const compileUpsert = (db: ZartDatabase): CompiledInsert => compileInsert(db, true);
const compilePlainInsert = (db: ZartDatabase): CompiledInsert => compileInsert(db, false);

function compileInsert(db: ZartDatabase, upsert: boolean): CompiledInsert {
  const placeholder = (name: Parameter) => () => `:${name}`;
  let insert = db.dataSource
    .createQueryBuilder()
    .insert()
    .into(StepCheckpointEntity)
    .addCommonTableExpression(
      `
SELECT id FROM ${db.tables.runs}
WHERE id = :runId AND lease_owner = :owner AND lease_epoch = :epoch
FOR SHARE`,
      'fence',
    )
    .values({
      runId: () => '(SELECT id FROM fence)',
      key: placeholder('key'),
      seq: placeholder('seq'),
      sequential: placeholder('sequential'),
      completionSeq: placeholder('completionSeq'),
      name: placeholder('name'),
      argsHash: placeholder('argsHash'),
      status: placeholder('status'),
      output: placeholder('output'),
      error: placeholder('error'),
      attempts: placeholder('attempts'),
      wakeAt: () => 'NULL',
      startedAt: () => 'now() - make_interval(secs => :durationSeconds)',
      finishedAt: () => 'now()',
    });
  if (upsert) {
    // A row still open (a step between retry attempts) takes the outcome; a final row is kept,
    // so writing the same outcome again (a retry after a lost reply) changes nothing.
    insert = insert.orUpdate(
      ['status', 'output', 'error', 'attempts', 'wake_at', 'finished_at', 'completion_seq'],
      ['run_id', 'key'],
    );
  }
  const [text, names] = insert
    // Each parameter's value is its own name, so the compiled list tells the positional order.
    .setParameters(Object.fromEntries(parameters.map((p) => [p, p])))
    .updateEntity(false)
    .getQueryAndParameters();
  return upsert
    ? {
        name: db.statementName('zart_upsert_checkpoint'),
        text: `${text} WHERE "steps"."status" NOT IN ('completed', 'failed')`,
        order: names as Parameter[],
      }
    : { name: db.statementName('zart_insert_checkpoint'), text, order: names as Parameter[] };
}

/**
 * @internal How both checkpoint writes (this one and insert-checkpoints.ts) choose: the upsert
 * when a row of a call may be stored already, else the plain insert, sent again as the upsert when
 * it meets a stored row of its call after all.
 */
export async function insertOrUpsert<T>(
  replacesOpenRow: boolean,
  insert: () => Promise<T>,
  upsert: () => Promise<T>,
): Promise<T> {
  if (replacesOpenRow) return upsert();
  try {
    return await insert();
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code === '23505' && constraint === 'steps_pkey') return upsert();
    throw error;
  }
}

/**
 * Throws LeaseLostError when the lease is gone; nothing is written then. A final checkpoint that
 * is already stored (a retry after the connection dropped around the commit) counts as written.
 */
export async function insertCheckpoint(db: ZartDatabase, row: LeasedCheckpoint): Promise<void> {
  const send = (compile: (db: ZartDatabase) => CompiledInsert) => () => {
    const statement = db.compile(compile);
    return db.pool.query({ name: statement.name, text: statement.text, values: positionalValues(statement, row) });
  };
  await insertOrUpsert(row.checkpoint.replacesOpenRow, send(compilePlainInsert), send(compileUpsert)).catch(
    rethrowFenced(row.lease),
  );
}

/**
 * @internal The step's final checkpoint was already stored when a transactional step tried to
 * commit it: the transaction must roll back, or the step's writes would commit a second time.
 */
export class CheckpointAlreadyStoredError extends Error {
  constructor(runId: string, key: string) {
    super(`The checkpoint of step "${key}" of run "${runId}" is already stored.`);
  }
}

/**
 * The same write inside a transaction of a `transaction: true` step, committing with its writes.
 * Unlike the plain write, a final checkpoint already there is an error (CheckpointAlreadyStoredError).
 */
export async function insertCheckpointIn(
  manager: EntityManager,
  db: ZartDatabase,
  row: LeasedCheckpoint,
): Promise<void> {
  const statement = db.compile(compileUpsert);
  const values = positionalValues(statement, row);
  let written: unknown[];
  try {
    written = await manager.query<unknown[]>(`${statement.text} RETURNING 1 AS written`, values);
  } catch (error) {
    // TypeORM wraps the driver's error; the fence shows in the original.
    return rethrowFenced(row.lease)((error as { driverError?: unknown }).driverError ?? error);
  }
  if (written.length === 0) throw new CheckpointAlreadyStoredError(row.lease.runId, row.checkpoint.key);
}

// The row's values in the statement's $1, $2, ... order, each computed once.
function positionalValues(statement: CompiledInsert, row: LeasedCheckpoint): unknown[] {
  const named = parameterValues(row);
  return statement.order.map((p) => named[p]);
}

function parameterValues({ lease, checkpoint }: LeasedCheckpoint): Record<Parameter, unknown> {
  return {
    runId: lease.runId,
    owner: lease.owner,
    epoch: lease.epoch,
    key: checkpoint.key,
    seq: checkpoint.seq,
    sequential: checkpoint.sequential,
    completionSeq: checkpoint.completionSeq,
    name: checkpoint.name,
    argsHash: checkpoint.argsHash,
    status: checkpoint.status,
    output: checkpoint.output === null ? null : JSON.stringify(checkpoint.output),
    error: checkpoint.error === null ? null : JSON.stringify(checkpoint.error),
    attempts: checkpoint.attempts,
    durationSeconds: checkpoint.durationMs / 1000,
  };
}

// No fence row makes run_id NULL, which the NOT NULL constraint rejects.
function rethrowFenced(lease: RunLease): (error: unknown) => never {
  return (error) => {
    const { code, column } = error as { code?: string; column?: string };
    if (code === '23502' && column === 'run_id') throw new LeaseLostError(lease.runId);
    throw error;
  };
}
