import type { Config } from './config.js';
import { NO_TRACING, type Tracing } from './tracing.js';

type Environment = Readonly<Record<string, string | undefined>>;

const isSet = (value: string | undefined): boolean => (value ?? '').trim() !== '';

/**
 * Whether the standard OTEL_* variables ask for traces (docs/interface.md, "Traces"): never with
 * OTEL_SDK_DISABLED=true; with OTEL_TRACES_EXPORTER, when it names an exporter other than `none`;
 * otherwise when an OTLP endpoint is set. The SDK would export to localhost:4318 with none of
 * them: here that means "not asked", so a service nobody configured for traces sends nothing.
 */
export function tracesRequested(env: Environment): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (exporters.length > 0) return exporters.some((e) => e !== 'none');
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts OpenTelemetry when asked, else returns NO_TRACING without loading any of it.
 *
 * main.ts calls this before it opens a connection, creates the server or a queue; its own static
 * imports (Fastify, BullMQ, undici) are already loaded by then, and that is enough here, so no
 * `node --import` is needed: nothing we trace is patched at import time. undici reports every
 * request on diagnostics_channel (`undici:request:create`), @fastify/otel is a plugin registered
 * on the server we build, and BullMQ takes bullmq-otel as its `telemetry` option. The ESM loader
 * hooks that `--import` exists for would only matter for instrumentations that rewrite modules.
 */
export async function startTelemetry(env: Environment, role: Config['ROLE']): Promise<Tracing> {
  if (!tracesRequested(env)) return NO_TRACING;
  const { startOtelTracing } = await import('./otel-tracing.js');
  return startOtelTracing(role);
}
