// Type-level test, compiled by `npm run typecheck` under exactOptionalPropertyTypes (which
// `tsc --init` turns on): every optional option of the public API accepts an explicit `undefined`,
// as an application passing `process.env.X` or a config value that may be missing does.
import {
  Step,
  Workflow,
  Zart,
  ZartClient,
  registerWorkflow,
  step,
  waitForEvent,
  startChild,
  type ForkOptions,
  type LargeValuesOptions,
  type LimitsOptions,
  type ListRunsOptions,
  type DeleteFinishedRunsOptions,
  type ResultOptions,
  type RetryPolicy,
  type ShutdownOptions,
  type StartChildOptions,
  type StartWorkflowOptions,
  type StepOptions,
  type WaitForEventOptions,
  type WorkerOptions,
  type WorkflowOptions,
  type ZartOptions,
  type QueueOptions,
  type MetricsOptions,
  type TracingOptions,
} from 'zart';
import {
  createTestDatabase,
  resolveDatabaseUrl,
  startEmbeddedPostgres,
  type CreateTestDatabaseOptions,
  type EmbeddedPostgresOptions,
  type ResolveDatabaseUrlOptions,
} from 'zart/testing';

const maybe = <T>(value: T): T | undefined => (Math.random() > 2 ? value : undefined);

// The first line of the README, as a newcomer writes it.
export const zart = new Zart({ connectionString: process.env.DATABASE_URL });
export const client = new ZartClient({ connectionString: process.env.DATABASE_URL, schema: process.env.ZART_SCHEMA });

export const worker: Required<WorkerOptions> = {
  concurrency: undefined,
  queues: undefined,
  lease: undefined,
  pollInterval: undefined,
  drain: undefined,
  maxInProcessWait: undefined,
  compatibleVersions: undefined,
};
export const options: Required<ZartOptions> = {
  connectionString: undefined,
  dataSource: undefined,
  schema: undefined,
  migrate: undefined,
  worker: undefined,
  resolve: undefined,
  logger: undefined,
  serializer: undefined,
  errorClasses: undefined,
  poolSize: undefined,
  limits: undefined,
  largeValues: undefined,
  connectTimeout: undefined,
  statementTimeout: undefined,
  queues: undefined,
  version: undefined,
  metrics: undefined,
  tracing: undefined,
};
export const queueOptions: Required<QueueOptions> = {
  concurrency: undefined,
  rateLimit: undefined,
  partitionConcurrency: undefined,
};
export const metricsOptions: Required<MetricsOptions> = { registry: undefined };
export const tracingOptions: Required<TracingOptions> = { tracerProvider: undefined };
export const limits: Required<LimitsOptions> = { maxValueSize: undefined };
export const largeValues: Omit<Required<LargeValuesOptions>, 'store'> = { threshold: undefined };
export const workflowOptions: Required<WorkflowOptions> = {
  name: undefined,
  version: undefined,
  queue: undefined,
  input: undefined,
  retry: undefined,
  timeout: undefined,
  maxRecoveries: undefined,
  formerNames: undefined,
};
export const stepOptions: Required<StepOptions> = {
  name: undefined,
  retry: undefined,
  transaction: undefined,
  timeout: undefined,
};
export const retry: Omit<Required<RetryPolicy>, 'maxAttempts'> = {
  backoff: undefined,
  initialDelay: undefined,
  maxDelay: undefined,
  jitter: undefined,
  retryIf: undefined,
};
export const startOptions: Required<Omit<StartWorkflowOptions, 'manager'>> & StartWorkflowOptions = {
  id: undefined,
  manager: undefined,
  queue: undefined,
  priority: undefined,
  partitionKey: undefined,
  deduplicationKey: undefined,
  delay: undefined,
  startAt: undefined,
};
export const resultOptions: Required<ResultOptions> = { timeout: undefined };
export const shutdownOptions: Required<ShutdownOptions> = { drain: undefined };
export const forkOptions: Required<ForkOptions> = { fromStep: 'charge#1', id: undefined };
export const listOptions: Required<ListRunsOptions> = {
  workflow: undefined,
  status: undefined,
  queue: undefined,
  parentId: undefined,
  idPrefix: undefined,
  createdAfter: undefined,
  createdBefore: undefined,
  limit: undefined,
  after: undefined,
  unserved: undefined,
};
export const deleteOptions: Required<DeleteFinishedRunsOptions> = { olderThan: '30d', batchSize: undefined };
export const waitOptions: Required<WaitForEventOptions> = { timeout: undefined };
export const childOptions: Required<StartChildOptions> = { id: undefined, queue: undefined };
export const testDatabaseOptions: Required<CreateTestDatabaseOptions> = { serverUrl: undefined };
export const embeddedOptions: Required<EmbeddedPostgresOptions> = {
  dataDir: undefined,
  port: undefined,
  log: undefined,
};
export const resolveOptions: Required<ResolveDatabaseUrlOptions> = {
  database: undefined,
  log: undefined,
  probeLocal: undefined,
  embedded: { dataDir: undefined, port: undefined },
};

// Values that may be missing flow straight into calls.
export async function calls(): Promise<void> {
  await zart.shutdown({ drain: maybe('10s') });
  await zart.listRuns({ workflow: maybe('checkout'), limit: maybe(10) });
  await zart.getHandle('run-1').result({ timeout: maybe('1m') });
  await createTestDatabase({ serverUrl: process.env.ZART_TEST_SERVER_URL });
  await resolveDatabaseUrl({ database: maybe('app'), embedded: { port: maybe(5433) } });
  await startEmbeddedPostgres({ dataDir: process.env.PGDATA });
  await waitForEvent('shipped', { timeout: maybe('7d') });
  await step('inline', () => 1, { retry: { maxAttempts: 3, initialDelay: maybe('1s') } });
  await startChild(Shipment, { sku: 'a' }, { id: maybe('child-1') });
}

export class ShipmentInput {
  sku!: string;
}

@Workflow({ name: maybe('shipment'), timeout: maybe('1h'), input: ShipmentInput })
export class Shipment {
  @Step({ timeout: maybe('5s') })
  async run(input: ShipmentInput): Promise<string> {
    return Promise.resolve(input.sku);
  }
}

registerWorkflow(
  class Plain {
    run(): number {
      return 1;
    }
  },
  { version: maybe('2') },
);
