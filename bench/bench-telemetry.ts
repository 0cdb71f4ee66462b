// BENCH_TELEMETRY: what observability the bench's Zart instances run with, to measure its cost.
// `off`: no metrics, tracing: false. `default` (unset): zart's defaults, i.e. no metrics and spans
// through @opentelemetry/api with no SDK registered (non-recording). `on`: metrics in a registry of
// their own, scraped every second as Prometheus would (more often than it does), and every span
// recorded by an SDK whose batch exporter discards them. `metrics` and `tracing`: one of the two.
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import type { ZartOptions } from 'zart';

export type BenchTelemetry = 'off' | 'default' | 'on' | 'metrics' | 'tracing';

export function benchTelemetry(): BenchTelemetry {
  const value = process.env.BENCH_TELEMETRY ?? 'default';
  const modes: BenchTelemetry[] = ['off', 'default', 'on', 'metrics', 'tracing'];
  if (!modes.includes(value as BenchTelemetry)) throw new Error(`BENCH_TELEMETRY: one of ${modes.join(', ')}`);
  return value as BenchTelemetry;
}

/** The options of one bench Zart, and a stop for the scrape loop. */
export function telemetryOptions(): { options: Pick<ZartOptions, 'metrics' | 'tracing'>; stop: () => void } {
  const mode = benchTelemetry();
  if (mode === 'off') return { options: { metrics: false, tracing: false }, stop: () => undefined };
  if (mode === 'default') return { options: {}, stop: () => undefined };
  const registry = new Registry();
  const exporter = {
    export: (_spans: unknown[], done: (result: { code: 0 }) => void) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const scrape = setInterval(() => void registry.metrics(), 1_000);
  return {
    options: {
      metrics: mode === 'tracing' ? false : { registry },
      tracing: mode === 'metrics' ? false : { tracerProvider: provider },
    },
    stop: () => {
      clearInterval(scrape);
      void provider.shutdown();
    },
  };
}
