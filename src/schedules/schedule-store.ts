// The client's side of schedules: checks a schedule (cron, time zone, options, input against the
// workflow's input class) before anything is written, saves it with its first tick computed from
// the database clock, and keeps @Schedule declarations and the table in step at start().
import { ConfigurationError, InvalidScheduleError } from '../errors';
import type { ZartLogger } from '../logging/zart-logger';
import { declarations, type AnyClass } from '../registry/declarations';
import { prepareInput } from '../registry/prepare-input';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import type { ValueSerializer } from '../serialization/value-serializer';
import type { ScheduleRow } from '../storage/sql/change-schedule';
import { deleteUndeclaredSchedules, readDatabaseNow, saveSchedule } from '../storage/sql/save-schedule';
import type { ZartDatabase } from '../storage/zart-database';
import {
  checkScheduleName,
  resolveScheduleOptions,
  type CatchUpPolicy,
  type OverlapPolicy,
  type ScheduleInfo,
  type ScheduleOptions,
} from './schedule-options';

/** @internal What the client needs to save a schedule. */
export interface ScheduleStoreServices {
  db: ZartDatabase;
  registry: WorkflowRegistry;
  serializer: ValueSerializer;
}

/** @internal Checks and saves one schedule; nothing is written when a check fails. */
export async function storeSchedule(
  services: ScheduleStoreServices,
  schedule: {
    name: unknown;
    cron: unknown;
    workflow: AnyClass | string;
    input: unknown;
    options: ScheduleOptions;
    declaredBy: 'decorator' | 'api';
  },
): Promise<void> {
  const { db, registry, serializer } = services;
  checkScheduleName(schedule.name);
  const name = schedule.name;
  const resolved = resolveScheduleOptions(name, schedule.cron, schedule.options);
  const definition = registry.get(schedule.workflow);
  // A bad input is a ValidationError, as in startWorkflow(), before anything is written.
  const prepared = await prepareInput(definition, schedule.input);
  const encoded = serializer.encode(prepared, `the input of schedule "${name}"`);
  const input = await serializer.store(encoded, { runId: `schedule:${name}`, stepKey: null });
  const now = await readDatabaseNow(db);
  await saveSchedule(db, {
    name,
    workflow: definition.name,
    cron: resolved.cron.expression,
    timezone: resolved.cron.timezone,
    input,
    overlap: resolved.overlap,
    catchUp: resolved.catchUp,
    maxCatchUp: resolved.maxCatchUp,
    declaredBy: schedule.declaredBy,
    // compile() refused expressions that never fire.
    nextTickAt: resolved.cron.nextAfter(now)!,
  });
}

/**
 * @internal Saves every @Schedule of the registered workflows and removes the @Schedule rows of
 * these workflows that the code no longer declares. Every declaration is checked before the
 * first write, so one bad declaration changes nothing.
 */
export async function saveDeclaredSchedules(services: ScheduleStoreServices, logger: ZartLogger): Promise<void> {
  const { registry } = services;
  const declared = declarations().schedules ?? [];
  const byName = new Map<string, (typeof declared)[number]>();
  for (const declaration of declared) {
    const workflow = registry.find(workflowNameOf(registry, declaration.target) ?? '');
    if (!workflow) {
      throw new ConfigurationError(
        `@Schedule() on ${declaration.target.name}: the class is not a registered workflow. Add @Workflow() to it (above or below @Schedule()).`,
      );
    }
    const name = declaration.options.name ?? workflow.name;
    const clash = byName.get(name);
    if (clash) {
      throw new InvalidScheduleError(
        name,
        `it is declared twice (on ${clash.target.name} and ${declaration.target.name}). Give one of them another name with @Schedule(cron, { name }).`,
      );
    }
    byName.set(name, declaration);
    checkScheduleName(name);
    resolveScheduleOptions(name, declaration.cron, declaration.options);
  }
  for (const [name, declaration] of byName) {
    const { input, name: _name, ...options } = declaration.options;
    await storeSchedule(services, {
      name,
      cron: declaration.cron,
      workflow: declaration.target,
      input,
      options,
      declaredBy: 'decorator',
    });
  }
  const removed = await deleteUndeclaredSchedules(services.db, registry.names, [...byName.keys()]);
  if (removed.length > 0) logger.info('removed schedules no longer declared with @Schedule', { schedules: removed });
}

function workflowNameOf(registry: WorkflowRegistry, target: AnyClass): string | undefined {
  return registry.workflows.find((workflow) => workflow.target === target)?.name;
}

/** @internal */
export function toScheduleInfo(row: ScheduleRow): ScheduleInfo {
  return {
    name: row.name,
    workflow: row.workflow,
    cron: row.cron,
    timezone: row.timezone,
    overlap: row.overlap as OverlapPolicy,
    catchUp: row.catchUp as CatchUpPolicy,
    maxCatchUp: row.maxCatchUp,
    paused: row.paused,
    nextTickAt: row.paused ? null : row.nextTickAt,
    lastTickAt: row.lastTickAt,
    lastRunId: row.lastRunId,
    bufferedTickAt: row.bufferedTickAt,
    declaredBy: row.declaredBy === 'decorator' ? 'decorator' : 'api',
  };
}
