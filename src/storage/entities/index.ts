// The entities Zart registers in its own DataSource, in one list. They are EntitySchemas, not
// decorated classes: decorators would put them in TypeORM's global metadata storage, which is the
// application's (a peer dependency, so one storage for both), and Zart's DataSource reads only
// these schemas, whatever the application registered there.
import { EventEntity, eventEntitySchema } from './event.entity';
import { RunEntity, runEntitySchema } from './run.entity';
import { StepCheckpointEntity, stepCheckpointEntitySchema } from './step-checkpoint.entity';
import { WorkerEntity, workerEntitySchema } from './worker.entity';
import { QueueStartEntity, queueStartEntitySchema } from './queue-start.entity';
import { ScheduleEntity, scheduleEntitySchema } from './schedule.entity';

export { EventEntity, RunEntity, StepCheckpointEntity, WorkerEntity, QueueStartEntity, ScheduleEntity };
export { runStatuses, type RunStatus } from './run.entity';
export type { StepStatus } from './step-checkpoint.entity';

export const zartEntities = [
  runEntitySchema,
  stepCheckpointEntitySchema,
  eventEntitySchema,
  workerEntitySchema,
  queueStartEntitySchema,
  scheduleEntitySchema,
];
