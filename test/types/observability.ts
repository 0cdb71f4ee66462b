// Type-level test, compiled by `npm run typecheck`: the observability options take the real
// objects of prom-client, pino and the OpenTelemetry SDK without a cast.
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { Registry, register } from 'prom-client';
import { Zart, pinoZartLogger, type MetricsText } from 'zart';

export const withRegistry = new Zart({ metrics: { registry: new Registry() } });
export const withDefaultRegistry = new Zart({ metrics: { registry: register } });
export const withProvider = new Zart({ tracing: { tracerProvider: new BasicTracerProvider() } });
export const withGlobalProvider = new Zart({ tracing: { tracerProvider: trace.getTracerProvider() } });
export const withPino = new Zart({ logger: pinoZartLogger(pino()) });
export const withChildPino = new Zart({ logger: pinoZartLogger(pino().child({ service: 'orders' })) });
export const text: Promise<MetricsText> = withRegistry.metricsText();
