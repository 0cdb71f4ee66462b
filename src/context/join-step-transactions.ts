// Makes one DataSource's own EntityManager, its repositories and the query builders and queries
// taken from them run in the transaction of the `transaction: true` step that calls them, so an
// application's injected repositories commit and roll back with the step. Installed on that one
// DataSource instance, never on TypeORM's classes: every other DataSource keeps its behaviour, and
// outside a transactional step this one's does too.
//
// How TypeORM routes a call (the same in 0.3.x and 1.x): every method of an EntityManager runs on
// `this.queryRunner`, or on a fresh pooled connection when it has none, as the DataSource's default
// manager has none; repositories (`dataSource.getRepository(E)`, @nestjs/typeorm's injected ones)
// hold that manager and call through it; `manager.transaction()` on a runner already in a
// transaction opens a savepoint on it. So the default manager's `queryRunner`, answered from the run
// context, is enough for all of those; DataSource.query() and DataSource.createQueryBuilder() take a
// runner as an argument instead, and get the step's when given none.
import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { StepTransactionClosedError } from '../errors';
import { currentFrame } from './run-context';

const joined = Symbol.for('zart.joinsStepTransactions');

/**
 * Installs the join on `dataSource` (once, however many Zart instances share it). Its default
 * manager may be used before and after: outside a transactional step nothing changes.
 */
export function joinStepTransactions(dataSource: DataSource): void {
  const marked = dataSource as DataSource & { [joined]?: true };
  if (marked[joined]) return;
  Object.defineProperty(marked, joined, { value: true });

  const manager = dataSource.manager;
  const ownRunner = manager.queryRunner;
  let creatingRepository = false;

  // The step's runner when the caller is in a transactional step on this DataSource.
  const stepRunner = (call: string): QueryRunner | undefined => {
    const frame = currentFrame();
    const transaction = frame?.transaction;
    if (!frame?.step || !transaction || transaction.dataSource !== dataSource || creatingRepository) return undefined;
    if (!transaction.open) throw new StepTransactionClosedError(frame.run.id, frame.step.key, call);
    return transaction.manager.queryRunner;
  };

  Object.defineProperty(manager, 'queryRunner', {
    configurable: true,
    enumerable: true,
    get: () => stepRunner('a repository or EntityManager of the DataSource') ?? ownRunner,
  });

  // The manager caches each repository with the runner it had when the repository was created:
  // one first asked for inside a step must not keep that step's connection after it. Created
  // without one, a repository calls through the manager, and so joins whichever step calls it.
  const outsideStep = <R>(create: () => R): R => {
    creatingRepository = true;
    try {
      return create();
    } finally {
      creatingRepository = false;
    }
  };
  const getRepository = manager.getRepository.bind(manager);
  const getTreeRepository = manager.getTreeRepository.bind(manager);
  Object.assign(manager, {
    getRepository: (target: EntityTarget<ObjectLiteral>) => outsideStep(() => getRepository(target)),
    getTreeRepository: (target: EntityTarget<ObjectLiteral>) => outsideStep(() => getTreeRepository(target)),
  });

  const query = dataSource.query.bind(dataSource) as (
    sql: string,
    parameters?: unknown[],
    runner?: QueryRunner,
  ) => unknown;
  const createQueryBuilder = dataSource.createQueryBuilder.bind(dataSource) as (
    entityOrRunner?: unknown,
    alias?: string,
    runner?: QueryRunner,
  ) => unknown;
  Object.assign(dataSource, {
    query: (sql: string, parameters?: unknown[], runner?: QueryRunner) =>
      query(sql, parameters, runner ?? stepRunner('DataSource.query()')),
    // Two forms, told apart as TypeORM does: (entity, alias, runner?) and (runner?).
    createQueryBuilder: (entityOrRunner?: unknown, alias?: string, runner?: QueryRunner) =>
      alias
        ? createQueryBuilder(entityOrRunner, alias, runner ?? stepRunner('DataSource.createQueryBuilder()'))
        : createQueryBuilder(entityOrRunner ?? stepRunner('DataSource.createQueryBuilder()')),
  });
}
