// The entities Zart registers in its DataSource, in one list.
import { EventEntity } from './event.entity';
import { RunEntity } from './run.entity';
import { StepCheckpointEntity } from './step-checkpoint.entity';
import { WorkerEntity } from './worker.entity';

export { EventEntity, RunEntity, StepCheckpointEntity, WorkerEntity };
export { runStatuses, type RunStatus } from './run.entity';
export type { StepStatus } from './step-checkpoint.entity';

export const zartEntities = [RunEntity, StepCheckpointEntity, EventEntity, WorkerEntity];
