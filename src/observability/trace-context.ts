// The trace context stored with a run (runs.trace_context): the W3C `traceparent` (and
// `tracestate`) of the span that started it, so each execution of the run, in any process and
// after any crash, and the runs it starts, continue that trace. Readable by any tool as it is.

/** @internal As stored in runs.trace_context. */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

/** @internal The parts of a span context a stored one carries. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string | undefined;
}

// version 00: 2 hex version, 32 hex trace id, 16 hex span id, 2 hex flags (W3C Trace Context).
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** @internal */
export function encodeTraceContext(parent: TraceParent): StoredTraceContext {
  const flags = (parent.traceFlags & 0xff).toString(16).padStart(2, '0');
  const stored: StoredTraceContext = { traceparent: `00-${parent.traceId}-${parent.spanId}-${flags}` };
  if (parent.traceState) stored.tracestate = parent.traceState;
  return stored;
}

/** @internal The stored context, or undefined when there is none or it is not one zart wrote. */
export function decodeTraceContext(stored: unknown): TraceParent | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { traceparent, tracestate } = stored as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== 'string') return undefined;
  const match = traceparentPattern.exec(traceparent);
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16),
    traceState: typeof tracestate === 'string' && tracestate ? tracestate : undefined,
  };
}
