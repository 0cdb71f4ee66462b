// Writes one step checkpoint in one round trip, fenced on the run's lease: the INSERT (built by
// TypeORM's QueryBuilder from StepCheckpointEntity) takes its run_id from a CTE that only yields a
// row while this worker still holds the lease, so a zombie's write inserts nothing.
import { QueryFailedError } from 'typeorm';
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import { StepCheckpointEntity, type StepStatus } from '../entities';
import type { ZartDatabase } from '../zart-database';

export interface NewCheckpoint {
  key: string;
  seq: number;
  name: string;
  status: StepStatus;
  output: StoredValue | null;
  error: StoredValue | null;
  attempts: number;
  /** How long the step took, by the worker's monotonic clock; started_at = now() - duration. */
  durationMs: number;
}

// FOR SHARE makes a concurrent claim (an UPDATE of the run row) wait for this insert to commit,
// so the new owner's replay sees the checkpoint; after the claim, the fence yields no row.
const fenceSql = (t: { runs: string }) => `
SELECT id FROM ${t.runs}
WHERE id = :runId AND lease_owner = :owner AND lease_epoch = :epoch
FOR SHARE`;

/** Throws LeaseLostError when the lease is gone; nothing is written then. */
export async function insertCheckpoint(
  db: ZartDatabase,
  lease: { runId: string; owner: string; epoch: number },
  checkpoint: NewCheckpoint,
): Promise<void> {
  await db.dataSource
    .createQueryBuilder()
    .insert()
    .into(StepCheckpointEntity)
    .addCommonTableExpression(db.sql(fenceSql), 'fence')
    .values({
      runId: () => '(SELECT id FROM fence)',
      key: checkpoint.key,
      seq: checkpoint.seq,
      name: checkpoint.name,
      status: checkpoint.status,
      output: (checkpoint.output ?? undefined) as object | undefined,
      error: (checkpoint.error ?? undefined) as object | undefined,
      attempts: checkpoint.attempts,
      startedAt: () => `now() - make_interval(secs => ${Number(checkpoint.durationMs) / 1000})`,
    })
    .setParameters({ runId: lease.runId, owner: lease.owner, epoch: lease.epoch })
    .updateEntity(false)
    .execute()
    .catch((error: unknown) => {
      // No fence row makes run_id NULL, which the NOT NULL constraint rejects.
      if (error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23502') {
        throw new LeaseLostError(lease.runId);
      }
      throw error;
    });
}
