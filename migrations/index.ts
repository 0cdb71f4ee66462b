// Every migration, in order. Zart runs them at start() and `zart migrate` under an advisory lock.
import { CreateCoreTables1764000000000 } from './1764000000000-create-core-tables';
import { StepArgumentsAndClaimOrder1764100000000 } from './1764100000000-step-arguments-and-claim-order';
import { CrashRecoveries1764200000000 } from './1764200000000-crash-recoveries';
import { Queues1764300000000 } from './1764300000000-queues';
import { Schedules1764400000000 } from './1764400000000-schedules';
import { CallOrderAndVersions1764500000000 } from './1764500000000-call-order-and-versions';
import { CompletionOrder1764600000000 } from './1764600000000-completion-order';
import { ChildBatches1764630000000 } from './1764630000000-child-batches';
import { CheckpointsWithoutForeignKey1764700000000 } from './1764700000000-checkpoints-without-foreign-key';

export const zartMigrations = [
  CreateCoreTables1764000000000,
  StepArgumentsAndClaimOrder1764100000000,
  CrashRecoveries1764200000000,
  Queues1764300000000,
  Schedules1764400000000,
  CallOrderAndVersions1764500000000,
  CompletionOrder1764600000000,
  ChildBatches1764630000000,
  CheckpointsWithoutForeignKey1764700000000,
];
