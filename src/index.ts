// The public API of zart: explicit named re-exports only; everything else is internal.
import 'reflect-metadata';

export { Zart, type ShutdownOptions } from './client/zart';
export { ZartClient, type StartWorkflowOptions, type ForkOptions } from './client/zart-client';
export type { WorkflowHandle, ResultOptions } from './client/workflow-handle';
export type { RunHistory, RunHistoryCall } from './client/run-history';
export type {
  WorkflowRun,
  StepCheckpoint,
  ListRunsOptions,
  RunEvent,
  WorkerInfo,
  DeleteFinishedRunsOptions,
} from './client/workflow-run';
export { Workflow } from './decorators/workflow.decorator';
export { Step } from './decorators/step.decorator';
export { Schedule } from './decorators/schedule.decorator';
export type {
  ScheduleOptions,
  ScheduleDeclarationOptions,
  ScheduleInfo,
  OverlapPolicy,
  CatchUpPolicy,
} from './schedules/schedule-options';
export { registerWorkflow } from './registry/register-workflow';
export { registerStep } from './registry/register-step';
export type {
  WorkflowOptions,
  StepOptions,
  WorkflowClass,
  InputClass,
  WorkflowInput,
  WorkflowOutput,
  WorkflowStartArguments,
} from './registry/declarations';
export { step } from './context/step';
export type { RetryPolicy } from './engine/retry-policy';
export {
  sleep,
  now,
  randomUUID,
  waitForEvent,
  startChild,
  startChildren,
  patched,
  deprecatePatch,
  type WaitForEventOptions,
  type StartChildOptions,
  type ChildHandle,
  type StartChildrenOptions,
  type ChildBatch,
} from './context/durable-functions';
export { currentRun, currentStep, stepTransaction } from './context/current-run';
export type { RunInfo, StepInfo } from './context/run-context';
export type { Duration } from './duration/parse-duration';
export type { ZartOptions, WorkerOptions, WorkflowResolver } from './options/resolve-options';
export type { QueueOptions, RateLimitOptions } from './queues/resolve-queue-options';
export type { ZartLogger } from './logging/zart-logger';
export { pinoZartLogger, type PinoLogger } from './logging/pino-zart-logger';
export type { MetricsOptions, MetricsRegistry, MetricsText } from './observability/zart-metrics';
export type { TracingOptions, TracerProviderLike } from './observability/run-tracing';
export { DefaultSerializer, type Serializer, type StoredValue, type ErrorClass } from './serialization/serializer';
export type { LimitsOptions, LargeValuesOptions } from './serialization/resolve-value-options';
export type { LargeValueStore, LargeValueInfo } from './serialization/large-value-store';
export type { ByteSize } from './serialization/parse-byte-size';
export type { RunStatus, StepStatus } from './storage/entities';
export {
  ZartError,
  ValidationError,
  WorkflowNotRegisteredError,
  RunNotFoundError,
  RunIdConflictError,
  RunDeduplicatedError,
  UnknownQueueError,
  InvalidRunStateError,
  NotInWorkflowError,
  NonDeterminismError,
  StepFailedError,
  WorkflowFailedError,
  WorkflowCancelledError,
  WaitTimeoutError,
  StepTimeoutError,
  StepTransactionClosedError,
  DeadlineExceededError,
  CrashLoopError,
  LeaseLostError,
  SerializationError,
  ValueTooLargeError,
  LargeValueStoreError,
  ConfigurationError,
  ShutdownError,
  DatabaseTimeoutError,
  EmbeddedPostgresError,
  InvalidScheduleError,
  ScheduleNotFoundError,
  type ValidationFailure,
} from './errors';
export { createZartHttpHandler, type ZartHttpHandler } from './http/create-zart-http-handler';
export type {
  ZartHttpHandlerOptions,
  ZartHttpAuth,
  ZartHttpTokens,
  ZartHttpAuthorizer,
  ZartHttpAction,
  ZartMetricsSource,
} from './http/http-handler-options';
