// The JSON API: one route per thing the CLI does (list and show runs, cancel, resume, fork, send an
// event, workers, retention), each naming the access it needs. Routes call the ZartClient methods
// the CLI calls; no SQL of their own.
import type { IncomingMessage } from 'node:http';
import type { ZartClient } from '../client/zart-client';
import { isDurationText, type Duration } from '../duration/parse-duration';
import { toPlainJson } from '../serialization/plain-json';
import { badRequest, notFound } from './http-exchange';
import { changingActions, type ZartHttpAction } from './http-handler-options';
import { listRunsParameters, onlyFields, QueryParameters, stringField } from './request-parameters';
import { limitedValue, runSummary, runView } from './run-views';

/** What a route is given: the path's parameters, the query, and the body (for POST). */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  req: IncomingMessage;
  body: () => Promise<Record<string, unknown>>;
  /** Which actions this request's credentials allow (for GET /api/access). */
  allowed: (action: ZartHttpAction) => Promise<boolean>;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST';
  /** Path segments after the base path; `:name` matches one segment (percent-decoded). */
  path: string[];
  action: ZartHttpAction;
  answer: (client: ZartClient, request: RouteRequest) => Promise<RouteAnswer>;
}

const ok = (body: unknown): RouteAnswer => ({ status: 200, body });

export const apiRoutes: Route[] = [
  {
    method: 'GET',
    path: ['api', 'access'],
    action: 'read',
    async answer(_client, { query, allowed }) {
      new QueryParameters(query, []);
      const actions: string[] = [];
      for (const action of changingActions) if (await allowed(action)) actions.push(action);
      return ok({ read: true, actions });
    },
  },
  {
    method: 'GET',
    path: ['api', 'runs'],
    action: 'read',
    async answer(client, { query }) {
      const options = listRunsParameters(query);
      const runs = await client.listRuns(options);
      const next = runs.length === options.limit ? runs[runs.length - 1]!.id : null;
      return ok({ runs: runs.map(runSummary), next });
    },
  },
  {
    method: 'GET',
    path: ['api', 'runs', ':id'],
    action: 'read',
    async answer(client, { params, query }) {
      const limit = new QueryParameters(query, ['valueLimit']).integer('valueLimit', 100, 10_000_000) ?? null;
      const id = params.id!;
      const run = await client.getRun(id);
      const [steps, events, children] = await Promise.all([
        client.getSteps(id),
        client.getEvents(id),
        client.listRuns({ parentId: id, limit: 1000 }),
      ]);
      return ok(runView(run, steps, events, children, limit));
    },
  },
  {
    method: 'GET',
    path: ['api', 'runs', ':id', 'values', ':which'],
    action: 'read',
    async answer(client, { params, query }) {
      new QueryParameters(query, []);
      const which = params.which!;
      if (which !== 'input' && which !== 'output' && which !== 'error') {
        throw notFound(`A run has the values input, output and error; "${which}" is none of them.`);
      }
      const run = await client.getRun(params.id!);
      return ok({ value: limitedValue(run[which], null, { of: which }) });
    },
  },
  {
    method: 'GET',
    path: ['api', 'runs', ':id', 'values', 'steps', ':key', ':field'],
    action: 'read',
    async answer(client, { params, query }) {
      new QueryParameters(query, []);
      const field = params.field!;
      if (field !== 'output' && field !== 'error') {
        throw notFound(`A step has the values output and error; "${field}" is neither.`);
      }
      const step = (await client.getSteps(params.id!)).find((s) => s.key === params.key);
      if (!step) throw notFound(`Run "${params.id}" has no step "${params.key}".`);
      return ok({ value: limitedValue(step[field], null, { of: 'step', key: step.key, field }) });
    },
  },
  {
    method: 'GET',
    path: ['api', 'runs', ':id', 'values', 'events', ':eventId', 'payload'],
    action: 'read',
    async answer(client, { params, query }) {
      new QueryParameters(query, []);
      const event = (await client.getEvents(params.id!)).find((e) => e.id === params.eventId);
      if (!event) throw notFound(`Run "${params.id}" has no event with id "${params.eventId}".`);
      return ok({ value: limitedValue(event.payload, null, { of: 'event', eventId: event.id }) });
    },
  },
  {
    method: 'POST',
    path: ['api', 'runs', ':id', 'cancel'],
    action: 'cancel',
    async answer(client, { params, body }) {
      onlyFields(await body(), []);
      await client.cancel(params.id!);
      return ok({ id: params.id, cancelled: true });
    },
  },
  {
    method: 'POST',
    path: ['api', 'runs', ':id', 'resume'],
    action: 'resume',
    async answer(client, { params, body }) {
      onlyFields(await body(), []);
      await client.resume(params.id!);
      return ok({ id: params.id, resumed: true });
    },
  },
  {
    method: 'POST',
    path: ['api', 'runs', ':id', 'fork'],
    action: 'fork',
    async answer(client, { params, body }) {
      const fields = await body();
      onlyFields(fields, ['fromStep', 'id']);
      const fromStep = stringField(fields, 'fromStep', 'charge#0');
      const newId = stringField(fields, 'id', 'order-42-retry', true);
      const handle = await client.fork(params.id!, { fromStep, ...(newId === undefined ? {} : { id: newId }) });
      return { status: 201, body: { id: handle.id, forkedFrom: params.id, fromStep } };
    },
  },
  {
    method: 'POST',
    path: ['api', 'runs', ':id', 'events'],
    action: 'sendEvent',
    async answer(client, { params, body }) {
      const fields = await body();
      onlyFields(fields, ['name', 'payload']);
      const name = stringField(fields, 'name', 'approved');
      await client.sendEvent(params.id!, name, fields.payload);
      return ok({ runId: params.id, name, sent: true });
    },
  },
  {
    method: 'GET',
    path: ['api', 'workers'],
    action: 'read',
    async answer(client, { query }) {
      new QueryParameters(query, []);
      return ok(toPlainJson({ workers: await client.listWorkers() }));
    },
  },
  {
    method: 'POST',
    path: ['api', 'retention'],
    action: 'deleteFinishedRuns',
    async answer(client, { body }) {
      const fields = await body();
      onlyFields(fields, ['olderThan', 'batchSize']);
      const olderThan = stringField(fields, 'olderThan', '30d');
      if (!isDurationText(olderThan)) {
        throw badRequest(`"olderThan" must be a duration such as 12h or 30d, got ${JSON.stringify(olderThan)}.`);
      }
      const { batchSize } = fields;
      if (batchSize !== undefined && (!Number.isInteger(batchSize) || (batchSize as number) < 1)) {
        throw badRequest(`"batchSize" must be a positive whole number, got ${JSON.stringify(batchSize)}.`);
      }
      const deleted = await client.deleteFinishedRuns({
        olderThan: olderThan as Duration,
        ...(batchSize === undefined ? {} : { batchSize: batchSize as number }),
      });
      return ok({ deleted });
    },
  },
];

/** The route for `method` and `segments`, or the methods the path answers to (for a 405), or nothing (404). */
export function findRoute(
  routes: Route[],
  method: string,
  segments: string[],
): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, segments);
    if (!params) continue;
    if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : null;
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}
