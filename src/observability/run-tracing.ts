// OpenTelemetry spans through @opentelemetry/api only: a `start <workflow>` span where a run is
// started (its context is stored with the run), a `run <workflow>` span per execution of a run,
// parented on that stored context (so executions in other processes, after a crash or a park, are
// one trace), and a `step <name>` span per step attempt. The application brings the SDK: without
// one, @opentelemetry/api hands out non-recording spans; without @opentelemetry/api, nothing here runs.
import type * as Otel from '@opentelemetry/api';
import { ConfigurationError } from '../errors';
import { zartVersion } from '../options/zart-version';
import { loadOptionalPackage } from './optional-package';
import { decodeTraceContext, encodeTraceContext, type StoredTraceContext } from './trace-context';

/** An OpenTelemetry `TracerProvider` (the SDK's), as the `tracing` option takes it. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/** The `tracing` option. */
export interface TracingOptions {
  /** Where zart's spans go. Default: the global provider the SDK registered (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProviderLike | undefined;
}

type Api = typeof Otel;

/** @internal One execution of a run, as a span. */
export interface ExecutionTrace {
  /** False without an SDK (or when sampled out): steps then make no span at all. */
  readonly recording: boolean;
  /** Calls `fn` with the execution's span active, so spans of the workflow's own code nest under it. */
  within<T>(fn: () => T): T;
  /** A span for one attempt of a step, child of this execution's span. */
  step(step: { name: string; key: string; attempt: number }): StepTrace;
  /** Calls `start` inside a `start <workflow>` span child of this execution's (a child run). */
  started<T>(
    workflow: string,
    runId: string,
    start: (traceContext: StoredTraceContext | null) => Promise<T>,
  ): Promise<T>;
  /** `end`: how the execution ended here (completed, failed, released, ...); `error`: why it failed. */
  end(end: string, error?: unknown): void;
}

/** @internal One step attempt, as a span. */
export interface StepTrace {
  within<T>(fn: () => T): T;
  end(error?: unknown): void;
}

/** @internal */
export class RunTracing {
  private constructor(
    private readonly api: Api,
    private readonly tracer: Otel.Tracer,
    /** The global provider when no tracerProvider was given: it may get an SDK at any time. */
    private readonly globalProvider: Otel.TracerProvider | undefined,
  ) {}

  /**
   * No span can record: the global provider has no SDK behind it (yet; asked at each use, so an
   * SDK registered later is used). A span would then cost about a tenth of a short run (bench W2)
   * for nothing, unless it carries on a trace that is there: see where this is asked.
   */
  private get noSdk(): boolean {
    const provider = this.globalProvider;
    return (
      provider instanceof this.api.ProxyTracerProvider && provider.getDelegateTracer('zart', zartVersion) === undefined
    );
  }

  /**
   * Tracing as the option asks: on by default when @opentelemetry/api is installed (spans are
   * recorded only once the application registers an SDK); `false` turns it off.
   */
  static resolve(option: boolean | TracingOptions | undefined, problems: string[]): RunTracing | undefined {
    if (option === false) return undefined;
    if (option !== undefined && option !== true && (typeof option !== 'object' || option === null)) {
      problems.push('tracing must be true, false or { tracerProvider }.');
      return undefined;
    }
    const provider = typeof option === 'object' ? option.tracerProvider : undefined;
    if (provider !== undefined && typeof (provider as { getTracer?: unknown }).getTracer !== 'function') {
      problems.push('tracing.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer()).');
      return undefined;
    }
    const api = loadOptionalPackage<Api>('@opentelemetry/api');
    if (!api) {
      // Asked for explicitly: say what is missing. By default: tracing is simply off.
      if (option !== undefined) {
        throw new ConfigurationError(
          'The tracing option needs @opentelemetry/api, which is not installed. Run `npm install @opentelemetry/api` (and an OpenTelemetry SDK), or remove the tracing option.',
        );
      }
      return undefined;
    }
    const global = provider === undefined ? api.trace.getTracerProvider() : undefined;
    const tracer = (provider ?? global!).getTracer('zart', zartVersion) as Otel.Tracer;
    return new RunTracing(api, tracer, global);
  }

  /**
   * Calls `start` inside a `start <workflow>` span (a producer: the run is consumed by a worker)
   * and passes it the context to store with the run: that span's, or none when nothing records.
   */
  started<T>(
    workflow: string,
    runId: string,
    start: (traceContext: StoredTraceContext | null) => Promise<T>,
  ): Promise<T> {
    const { api } = this;
    const parent = api.context.active();
    // A caller's trace (a context manager with a propagated span, but no SDK here) is still stored.
    const carried = api.trace.getSpanContext(parent);
    if (this.noSdk && !(carried && api.isSpanContextValid(carried))) return start(null);
    return this.startSpan(workflow, runId, parent, start);
  }

  private async startSpan<T>(
    workflow: string,
    runId: string,
    parent: Otel.Context,
    start: (traceContext: StoredTraceContext | null) => Promise<T>,
  ): Promise<T> {
    const { api } = this;
    const span = this.tracer.startSpan(
      `start ${workflow}`,
      { kind: api.SpanKind.PRODUCER, attributes: { 'zart.workflow': workflow, 'zart.run.id': runId } },
      parent,
    );
    const spanContext = span.spanContext();
    const stored = api.isSpanContextValid(spanContext)
      ? encodeTraceContext({ ...spanContext, traceState: spanContext.traceState?.serialize() })
      : null;
    try {
      return await api.context.with(api.trace.setSpan(parent, span), () => start(stored));
    } catch (error) {
      failed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** A `run <workflow>` span for one execution, parented on the context stored with the run. */
  execution(run: {
    id: string;
    workflow: string;
    attempt: number;
    epoch: number;
    takeover: boolean;
    traceContext: unknown;
  }): ExecutionTrace {
    const { api, tracer } = this;
    const stored = decodeTraceContext(run.traceContext);
    // A stored trace still goes on into the run's child runs, below: only without one is there
    // nothing at all to do.
    if (!stored && this.noSdk) return untraced;
    const parent = stored
      ? api.trace.setSpanContext(api.ROOT_CONTEXT, {
          traceId: stored.traceId,
          spanId: stored.spanId,
          traceFlags: stored.traceFlags,
          isRemote: true,
          ...(stored.traceState ? { traceState: api.createTraceState(stored.traceState) } : {}),
        })
      : api.ROOT_CONTEXT;
    const span = tracer.startSpan(
      `run ${run.workflow}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          'zart.workflow': run.workflow,
          'zart.run.id': run.id,
          'zart.run.attempt': run.attempt,
          'zart.lease.epoch': run.epoch,
          'zart.lease.takeover': run.takeover,
        },
      },
      parent,
    );
    const active = api.trace.setSpan(parent, span);
    if (!span.isRecording()) {
      // No SDK, or sampled out: nothing is recorded, so steps skip their spans (with a
      // non-recording span per step, W2's CPU per step looked about a tenth higher on a noisy
      // machine). Child runs still get the stored context: a trace started elsewhere goes on.
      return {
        recording: false,
        within: (fn) => fn(),
        step: () => notRecorded,
        started: (workflow, runId, start) => this.startSpan(workflow, runId, active, start),
        end: () => span.end(),
      };
    }
    return {
      recording: true,
      within: (fn) => api.context.with(active, fn),
      step: (step) => {
        const stepSpan = tracer.startSpan(
          `step ${step.name}`,
          {
            attributes: {
              'zart.workflow': run.workflow,
              'zart.run.id': run.id,
              'zart.step.name': step.name,
              'zart.step.key': step.key,
              'zart.step.attempt': step.attempt,
            },
          },
          active,
        );
        const stepActive = api.trace.setSpan(active, stepSpan);
        return {
          within: (fn) => api.context.with(stepActive, fn),
          end: (error) => {
            if (error !== undefined) failed(api, stepSpan, error);
            stepSpan.end();
          },
        };
      },
      started: (workflow, runId, start) => this.startSpan(workflow, runId, active, start),
      end: (end, error) => {
        span.setAttribute('zart.execution.end', end);
        if (error !== undefined) failed(api, span, error);
        span.end();
      },
    };
  }
}

const notRecorded: StepTrace = { within: (fn) => fn(), end: () => undefined };

const untraced: ExecutionTrace = {
  recording: false,
  within: (fn) => fn(),
  step: () => notRecorded,
  started: (_workflow, _runId, start) => start(null),
  end: () => undefined,
};

function failed(api: Api, span: Otel.Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus(
    error instanceof Error
      ? { code: api.SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` }
      : { code: api.SpanStatusCode.ERROR },
  );
}
