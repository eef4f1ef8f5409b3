import type { Telemetry } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';

/** What our own spans carry; `undefined` values are left out. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/**
 * The tracing the rest of the service sees, whatever is behind it: OpenTelemetry when the OTEL_*
 * variables ask for traces (src/telemetry.ts), otherwise NO_TRACING, which loads nothing. Span
 * names and `mori.*` attributes: docs/interface.md, "Traces".
 */
export interface Tracing {
  /** BullMQ's `telemetry` option for every Queue and Worker an event passes through; undefined when off. */
  readonly bullmq: Telemetry | undefined;
  /** Registered first on the HTTP server: a span per request; undefined when off. */
  readonly fastifyPlugin: FastifyPluginAsync | undefined;
  /** Runs `work` in a span of its own under the active one; `work` adds attributes as it learns them. */
  inSpan<T>(
    name: string,
    attributes: SpanAttributes,
    work: (annotate: (a: SpanAttributes) => void) => Promise<T>,
  ): Promise<T>;
  /** Adds attributes to the active span (a BullMQ `process` span, inside a processor). */
  annotate(attributes: SpanAttributes): void;
  /** Exports the spans still buffered and stops; the caller bounds it with the shutdown deadline. */
  shutdown(): Promise<void>;
}

export const NO_TRACING: Tracing = {
  bullmq: undefined,
  fastifyPlugin: undefined,
  inSpan: (_name, _attributes, work) => work(() => undefined),
  annotate: () => undefined,
  shutdown: async () => undefined,
};
