import { decodeTraceContext, encodeTraceContext } from '../../../src/observability/trace-context';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('the trace context stored with a run', () => {
  it('is a W3C traceparent (and tracestate) that decodes to the same span context', () => {
    const stored = encodeTraceContext({ traceId, spanId, traceFlags: 1, traceState: 'vendor=abc' });
    expect(stored).toEqual({ traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'vendor=abc' });
    expect(decodeTraceContext(JSON.parse(JSON.stringify(stored)))).toEqual({
      traceId,
      spanId,
      traceFlags: 1,
      traceState: 'vendor=abc',
    });
  });

  it('keeps an unsampled flag and leaves out an empty tracestate', () => {
    const stored = encodeTraceContext({ traceId, spanId, traceFlags: 0 });
    expect(stored).toEqual({ traceparent: `00-${traceId}-${spanId}-00` });
    expect(decodeTraceContext(stored)?.traceFlags).toBe(0);
  });

  it.each([
    ['nothing', null],
    ['a string', `00-${traceId}-${spanId}-01`],
    ['another version', { traceparent: `01-${traceId}-${spanId}-01` }],
    ['upper-case hex', { traceparent: `00-${traceId.toUpperCase()}-${spanId}-01` }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${spanId}-01` }],
    ['an all-zero span id', { traceparent: `00-${traceId}-${'0'.repeat(16)}-01` }],
    ['a short span id', { traceparent: `00-${traceId}-00f067aa-01` }],
  ])('is ignored when it is %s', (_what, stored) => {
    expect(decodeTraceContext(stored)).toBeUndefined();
  });
});
