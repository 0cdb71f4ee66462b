// What the HTTP API answers about runs, as plain JSON: a run list row (no values), a run's full
// view (its steps, events and children), and values cut to a preview when the caller sets a limit,
// with the path that serves the whole value.
import type { RunEvent, StepCheckpoint, WorkflowRun } from '../client/workflow-run';
import { toPlainJson } from '../serialization/plain-json';

/** A run in a list: its fields without input and output (they can be large), the error as one line. */
export function runSummary(run: WorkflowRun): Record<string, unknown> {
  const { input: _input, output: _output, error, ...fields } = run;
  return toPlainJson({ ...fields, error: error === undefined ? null : errorLine(error) }) as Record<string, unknown>;
}

/** `Name: message` of a stored error (or a short rendering of whatever was thrown). */
export function errorLine(error: unknown): string {
  const plain = toPlainJson(error) as { name?: unknown; message?: unknown } | null;
  if (plain && typeof plain === 'object' && typeof plain.message === 'string') {
    return `${typeof plain.name === 'string' ? plain.name : 'Error'}: ${plain.message}`;
  }
  const text = JSON.stringify(plain);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/**
 * Where a value of a run is served whole, relative to the run's path (`api/runs/<id>/`): the
 * run's input, output or error, a step's output or error, an event's payload.
 */
export type ValuePath =
  | { of: 'input' | 'output' | 'error' }
  | { of: 'step'; key: string; field: 'output' | 'error' }
  | { of: 'event'; eventId: string };

export function valuePathText(path: ValuePath): string {
  switch (path.of) {
    case 'step':
      return `values/steps/${encodeURIComponent(path.key)}/${path.field}`;
    case 'event':
      return `values/events/${encodeURIComponent(path.eventId)}/payload`;
    default:
      return `values/${path.of}`;
  }
}

/**
 * A value as plain JSON, or, when its JSON is longer than `limit` characters, a marker with its
 * length, the start of its pretty-printed text, and the path of the whole value.
 */
export function limitedValue(value: unknown, limit: number | null, path: ValuePath): unknown {
  const plain = toPlainJson(value, { errorStacks: true });
  if (limit === null || value === undefined) return plain;
  const length = JSON.stringify(plain).length;
  if (length <= limit) return plain;
  return {
    $zartTruncated: { length, preview: JSON.stringify(plain, null, 2).slice(0, limit), path: valuePathText(path) },
  };
}

/** Everything about one run the dashboard's run page shows. */
export function runView(
  run: WorkflowRun,
  steps: StepCheckpoint[],
  events: RunEvent[],
  children: WorkflowRun[],
  limit: number | null,
): Record<string, unknown> {
  const { input, output, error, ...fields } = run;
  return {
    run: {
      ...(toPlainJson(fields) as object),
      input: limitedValue(input, limit, { of: 'input' }),
      output: limitedValue(output, limit, { of: 'output' }),
      error: limitedValue(error, limit, { of: 'error' }),
    },
    steps: steps.map(({ output, error, ...step }) => ({
      ...(toPlainJson(step) as object),
      output: limitedValue(output, limit, { of: 'step', key: step.key, field: 'output' }),
      error: limitedValue(error, limit, { of: 'step', key: step.key, field: 'error' }),
    })),
    events: events.map(({ payload, ...event }) => ({
      ...(toPlainJson(event) as object),
      payload: limitedValue(payload, limit, { of: 'event', eventId: event.id }),
    })),
    children: children.map(runSummary),
  };
}
