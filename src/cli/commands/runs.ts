// `zart runs ...`: list runs, show one (its steps as a timeline, its events and children), and act
// on one (cancel, resume, fork).
import type { Command } from 'commander';
import type { StepCheckpoint, WorkflowRun } from '../../client/workflow-run';
import { isDurationText, parseDuration } from '../../duration/parse-duration';
import { runStatuses, type RunStatus } from '../../storage/entities';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-context';
import {
  formatDuration,
  formatTime,
  paint,
  printJson,
  printTable,
  shortValue,
  statusColour,
  toPlainJson,
} from '../output';

interface ListFlags {
  status?: string;
  workflow?: string;
  queue?: string;
  since?: string;
  until?: string;
  idPrefix?: string;
  parent?: string;
  limit: string;
  after?: string;
  unserved?: boolean;
}

export function registerRunsCommands(program: Command, context: () => CliContext): void {
  const runs = program.command('runs').description('list, inspect and act on workflow runs');

  runs
    .command('list')
    .description('list runs, newest first')
    .option('--status <statuses>', `comma-separated statuses (${runStatuses.join(', ')})`)
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--queue <name>', 'only runs of this queue')
    .option('--since <when>', 'only runs created since: a duration ago (30m, 2h, 7d) or an ISO 8601 time')
    .option('--until <when>', 'only runs created before: a duration ago or an ISO 8601 time')
    .option('--id-prefix <text>', 'only runs whose id starts with this text')
    .option('--parent <id>', 'only the children of this run')
    .option('--limit <n>', 'at most this many runs (1 to 1000)', '50')
    .option('--after <id>', 'the page after this run id (from the previous page)')
    .option('--unserved', 'only unfinished runs of a code version no live worker serves')
    .action(async (flags: ListFlags) => listRuns(context(), flags));

  runs
    .command('show')
    .description('a run: its fields, its steps as a timeline, its events and children')
    .argument('<id>', 'the run id')
    .action(async (id: string) => showRun(context(), id));

  runs
    .command('move')
    .description('move an unfinished run to another code version: workers serving it claim and replay it')
    .argument('<id>', 'the run id')
    .requiredOption('--to-version <version>', 'the code version whose workers should take the run')
    .action(async (id: string, flags: { toVersion: string }) => {
      const ctx = context();
      await ctx.withClient((client) => client.moveRun(id, { version: flags.toVersion }));
      done(ctx, { id, version: flags.toVersion }, `Moved run ${id} to version ${flags.toVersion}.`);
    });

  runs
    .command('export')
    .description("a run's history as JSON, to check new code against with replayHistory() from zart/testing")
    .argument('<id>', 'the run id')
    .action(async (id: string) => {
      const ctx = context();
      // The history is JSON whether or not --json is given (it is meant for a file), exactly as
      // exportRun() returns it: values stay in their stored form.
      const history = await ctx.withClient((client) => client.exportRun(id));
      ctx.io.out(`${JSON.stringify(history)}\n`);
    });

  runs
    .command('cancel')
    .description('cancel a run and its children (they stop at their next step boundary)')
    .argument('<id>', 'the run id')
    .action(async (id: string) => {
      const ctx = context();
      await ctx.withClient((client) => client.cancel(id));
      done(ctx, { id, cancelled: true }, `Cancelled run ${id}.`);
    });

  runs
    .command('resume')
    .description('run a failed or cancelled run again, keeping its completed steps')
    .argument('<id>', 'the run id')
    .action(async (id: string) => {
      const ctx = context();
      await ctx.withClient((client) => client.resume(id));
      done(ctx, { id, resumed: true }, `Resumed run ${id}: a worker will pick it up.`);
    });

  runs
    .command('fork')
    .description('start a new run that reuses the checkpoints before a step and executes from it')
    .argument('<id>', 'the run id')
    .requiredOption('--from-step <key>', "the step key to execute again, as `runs show` lists it (e.g. 'charge#0')")
    .option('--id <newId>', 'the new run id (default: <id>-fork-<uuid>)')
    .action(async (id: string, flags: { fromStep: string; id?: string }) => {
      const ctx = context();
      const handle = await ctx.withClient((client) =>
        client.fork(id, { fromStep: flags.fromStep, ...(flags.id === undefined ? {} : { id: flags.id }) }),
      );
      done(ctx, { id: handle.id, forkedFrom: id, fromStep: flags.fromStep }, `Forked run ${id} as ${handle.id}.`);
    });
}

function done(ctx: CliContext, data: Record<string, unknown>, text: string): void {
  if (ctx.json) printJson(ctx.io, data);
  else ctx.io.out(`${text}\n`);
}

async function listRuns(ctx: CliContext, flags: ListFlags): Promise<void> {
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${flags.limit}".`);
  }
  const statuses = flags.status?.split(',').map((s) => s.trim());
  const unknown = statuses?.filter((s) => !runStatuses.includes(s as RunStatus));
  if (unknown && unknown.length > 0) {
    throw new UsageError(`--status: unknown status ${unknown.join(', ')}; use ${runStatuses.join(', ')}.`);
  }
  const found = await ctx.withClient((client) =>
    client.listRuns({
      limit,
      ...(statuses ? { status: statuses as RunStatus[] } : {}),
      ...(flags.workflow === undefined ? {} : { workflow: flags.workflow }),
      ...(flags.queue === undefined ? {} : { queue: flags.queue }),
      ...(flags.idPrefix === undefined ? {} : { idPrefix: flags.idPrefix }),
      ...(flags.parent === undefined ? {} : { parentId: flags.parent }),
      ...(flags.since === undefined ? {} : { createdAfter: pointInTime(flags.since, '--since') }),
      ...(flags.until === undefined ? {} : { createdBefore: pointInTime(flags.until, '--until') }),
      ...(flags.after === undefined ? {} : { after: flags.after }),
      ...(flags.unserved === true ? { unserved: true } : {}),
    }),
  );
  const next = found.length === limit ? found[found.length - 1]!.id : null;
  if (ctx.json) return printJson(ctx.io, { runs: found.map(runSummary), next });
  const { io } = ctx;
  if (found.length === 0) {
    io.out('No runs match.\n');
    return;
  }
  printTable(io, found, [
    { header: 'ID', cell: (run) => run.id },
    { header: 'WORKFLOW', cell: (run) => run.workflow },
    { header: 'STATUS', cell: (run) => run.status, colour: (run) => statusColour(run.status) },
    { header: 'QUEUE', cell: (run) => run.queue },
    { header: 'ATTEMPT', cell: (run) => String(run.attempt), right: true },
    { header: 'CREATED', cell: (run) => formatTime(run.createdAt) },
    { header: 'TOOK', cell: (run) => took(run), right: true },
  ]);
  if (next) io.out(paint(io, 'gray', `More runs: add --after ${next}\n`));
}

// A list row without the values: inputs and outputs can be large, `runs show` has them.
function runSummary(run: WorkflowRun): Record<string, unknown> {
  const { input: _input, output: _output, error, ...fields } = run;
  return { ...fields, error: error === undefined ? null : errorLine(error) };
}

function took(run: WorkflowRun): string {
  if (!run.startedAt) return '-';
  const end = run.finishedAt ?? (run.status === 'running' || run.status === 'waiting' ? new Date() : null);
  return end ? formatDuration(end.getTime() - run.startedAt.getTime()) : '-';
}

async function showRun(ctx: CliContext, id: string): Promise<void> {
  const { run, steps, events, children } = await ctx.withClient(async (client) => {
    const run = await client.getRun(id);
    const [steps, events, children] = await Promise.all([
      client.getSteps(id),
      client.getEvents(id),
      client.listRuns({ parentId: id, limit: 1000 }),
    ]);
    return { run, steps, events, children };
  });
  if (ctx.json) {
    return printJson(ctx.io, { run, steps, events, children: children.map(runSummary) });
  }
  const { io } = ctx;
  io.out(
    `${paint(io, 'bold', `Run ${run.id}`)}  ${run.workflow}${run.version ? ` (version ${run.version})` : ''}  ` +
      `${paint(io, statusColour(run.status) ?? 'bold', run.status)}\n`,
  );
  const fields: Array<[string, string]> = [
    ['queue', run.queue],
    ['attempt', String(run.attempt)],
    ['recoveries', String(run.recoveries)],
    ['parent', run.parentId ?? '-'],
    ['created', formatTime(run.createdAt)],
    ['started', formatTime(run.startedAt)],
    ['finished', run.finishedAt ? `${formatTime(run.finishedAt)} (took ${took(run)})` : '-'],
    ['input', shortValue(run.input, 200)],
  ];
  if (run.status === 'completed') fields.push(['output', shortValue(run.output, 200)]);
  if (run.error !== undefined) fields.push(['error', errorLine(run.error)]);
  for (const [name, value] of fields) io.out(`  ${name.padEnd(10)} ${value}\n`);

  io.out(`\n${paint(io, 'bold', `Steps (${steps.length})`)}\n`);
  if (steps.length === 0) io.out('  none yet\n');
  else printTimeline(ctx, run, steps);

  if (events.length > 0) {
    io.out(`\n${paint(io, 'bold', `Events (${events.length})`)}\n`);
    printTable(io, events, [
      { header: 'NAME', cell: (e) => e.name },
      { header: 'SENT', cell: (e) => formatTime(e.createdAt) },
      { header: 'TAKEN BY', cell: (e) => e.consumedBy ?? 'buffered' },
      { header: 'PAYLOAD', cell: (e) => shortValue(e.payload, 60) },
    ]);
  }
  if (children.length > 0) {
    io.out(`\n${paint(io, 'bold', `Children (${children.length})`)}\n`);
    printTable(io, children, [
      { header: 'ID', cell: (c) => c.id },
      { header: 'WORKFLOW', cell: (c) => c.workflow },
      { header: 'STATUS', cell: (c) => c.status, colour: (c) => statusColour(c.status) },
      { header: 'TOOK', cell: (c) => took(c), right: true },
    ]);
  }
}

// Each step as a bar on the run's time axis, from its start to its end: waits show as gaps.
function printTimeline(ctx: CliContext, run: WorkflowRun, steps: StepCheckpoint[]): void {
  const width = 30;
  const origin = Math.min(run.startedAt?.getTime() ?? Infinity, ...steps.map((s) => s.startedAt.getTime()));
  const end = Math.max(run.finishedAt?.getTime() ?? 0, ...steps.map((s) => s.finishedAt.getTime()));
  const span = Math.max(end - origin, 1);
  const column = (ms: number): number => Math.min(width - 1, Math.floor(((ms - origin) / span) * width));
  printTable(ctx.io, steps, [
    { header: 'KEY', cell: (s) => s.key },
    { header: 'STATUS', cell: (s) => s.status, colour: (s) => statusColour(s.status) },
    { header: 'ATTEMPTS', cell: (s) => String(s.attempts), right: true },
    { header: 'AT', cell: (s) => `+${formatDuration(s.startedAt.getTime() - origin)}`, right: true },
    { header: 'TOOK', cell: (s) => formatDuration(s.finishedAt.getTime() - s.startedAt.getTime()), right: true },
    {
      header: 'TIMELINE',
      cell: (s) => {
        const from = column(s.startedAt.getTime());
        const to = Math.max(from, column(s.finishedAt.getTime()));
        return `${' '.repeat(from)}${'█'.repeat(to - from + 1)}`.padEnd(width);
      },
      colour: (s) => statusColour(s.status),
    },
    { header: 'ERROR', cell: (s) => (s.error === undefined ? '' : errorLine(s.error)) },
  ]);
}

function errorLine(error: unknown): string {
  const plain = toPlainJson(error) as { name?: unknown; message?: unknown } | null;
  if (plain && typeof plain === 'object' && typeof plain.message === 'string') {
    return `${typeof plain.name === 'string' ? plain.name : 'Error'}: ${plain.message}`;
  }
  return shortValue(error, 200);
}

// A duration ago (by this machine's clock, which is fine for a filter) or an absolute time.
function pointInTime(text: string, flag: string): Date {
  if (isDurationText(text)) return new Date(Date.now() - parseDuration(text, flag));
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`${flag} must be a duration ago (30m, 2h, 7d) or an ISO 8601 time, got "${text}".`);
  }
  return date;
}
