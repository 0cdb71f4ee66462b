// Reads and checks what requests pass: query parameters (the run list's filters and paging) and the
// fields of action bodies. Every bad value is a 400 naming the parameter and what it accepts, so
// nothing reaches the database that listRuns() or an action would refuse with a less clear error.
import type { ListRunsOptions } from '../client/workflow-run';
import { isDurationText, parseDuration } from '../duration/parse-duration';
import { runStatuses, type RunStatus } from '../storage/entities';
import { badRequest } from './http-exchange';

/** The query of a request, with every parameter checked to be known and given once. */
export class QueryParameters {
  constructor(
    private readonly search: URLSearchParams,
    known: readonly string[],
  ) {
    for (const name of new Set(search.keys())) {
      if (!known.includes(name)) {
        throw badRequest(
          known.length === 0
            ? `Unknown query parameter "${name}": this path takes none.`
            : `Unknown query parameter "${name}"; this path takes ${known.join(', ')}.`,
        );
      }
      if (search.getAll(name).length > 1) throw badRequest(`Query parameter "${name}" is given more than once.`);
    }
  }

  /** A text parameter: absent is undefined, empty is refused (an empty filter matches nothing useful). */
  text(name: string): string | undefined {
    const value = this.search.get(name);
    if (value === null) return undefined;
    if (value === '' || value.includes('\u0000'))
      throw badRequest(`Query parameter "${name}" must not be empty or hold NUL bytes.`);
    return value;
  }

  /** A whole number from `min` to `max`. */
  integer(name: string, min: number, max: number): number | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw badRequest(`Query parameter "${name}" must be a whole number from ${min} to ${max}, got "${text}".`);
    }
    return value;
  }
}

/** The filters and page of GET /api/runs, as listRuns() takes them. */
export function listRunsParameters(search: URLSearchParams): ListRunsOptions & { limit: number } {
  const query = new QueryParameters(search, [
    'status',
    'workflow',
    'queue',
    'since',
    'until',
    'idPrefix',
    'parent',
    'limit',
    'after',
  ]);
  const status = query.text('status');
  const statuses = status?.split(',').map((s) => s.trim());
  const unknown = statuses?.filter((s) => !runStatuses.includes(s as RunStatus)) ?? [];
  if (unknown.length > 0) {
    throw badRequest(
      `Query parameter "status": unknown status ${unknown.map((s) => JSON.stringify(s)).join(', ')}; use one or more (comma-separated) of ${runStatuses.join(', ')}.`,
    );
  }
  const statusFilter = statuses as RunStatus[] | undefined;
  const workflow = query.text('workflow');
  const queue = query.text('queue');
  const idPrefix = query.text('idPrefix');
  const parentId = query.text('parent');
  const after = query.text('after');
  const createdAfter = pointInTime(query.text('since'), 'since');
  const createdBefore = pointInTime(query.text('until'), 'until');
  const options = {
    limit: query.integer('limit', 1, 1000) ?? 50,
    ...(statusFilter === undefined ? {} : { status: statusFilter }),
    ...(workflow === undefined ? {} : { workflow }),
    ...(queue === undefined ? {} : { queue }),
    ...(idPrefix === undefined ? {} : { idPrefix }),
    ...(parentId === undefined ? {} : { parentId }),
    ...(after === undefined ? {} : { after }),
    ...(createdAfter === undefined ? {} : { createdAfter }),
    ...(createdBefore === undefined ? {} : { createdBefore }),
  };
  return options;
}

// A duration ago (by this server's clock, which is fine for a filter) or an ISO 8601 time.
function pointInTime(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  if (isDurationText(text)) return new Date(Date.now() - parseDuration(text, name));
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw badRequest(
      `Query parameter "${name}" must be a duration ago (30m, 2h, 7d) or an ISO 8601 time such as 2026-01-31T12:00:00Z, got "${text}".`,
    );
  }
  return date;
}

/** A body field that must be a non-empty string (or, when `optional`, absent). */
export function stringField(body: Record<string, unknown>, name: string, example: string): string;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  example: string,
  optional: true,
): string | undefined;
export function stringField(
  body: Record<string, unknown>,
  name: string,
  example: string,
  optional = false,
): string | undefined {
  const value = body[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw badRequest(`The body needs "${name}" as a non-empty string, e.g. {"${name}":${JSON.stringify(example)}}.`);
  }
  return value;
}

/** Refuses body fields the action does not take (a typo would otherwise be silently ignored). */
export function onlyFields(body: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown body field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; this action takes ${known.length === 0 ? 'none' : known.join(', ')}.`,
    );
  }
}
