// @Schedule(): records a cron schedule for a workflow class; Zart.start() saves it (see
// schedules/declared-schedules.ts) and every worker process's ticker fires it.
import { declarations, type AnyClass } from '../registry/declarations';
import type { ScheduleDeclarationOptions } from '../schedules/schedule-options';

/**
 * Starts a run of the decorated workflow at every tick of `cron` (5 fields, or 6 with seconds
 * first), across all processes exactly once per tick. Put it beside `@Workflow()`; a class may
 * carry several, each with its own `name`.
 */
export function Schedule(
  cron: string,
  options: ScheduleDeclarationOptions = {},
): <T extends AnyClass>(target: T) => void {
  return (target) => {
    const list = (declarations().schedules ??= []);
    const name = options.name;
    // Declaring the same class twice (a re-imported module) replaces the earlier record.
    const existing = list.findIndex((d) => d.target === target && d.options.name === name);
    const declaration = { target, cron, options: { ...options } };
    if (existing >= 0) list[existing] = declaration;
    else list.push(declaration);
  };
}
