import type { OrderSummary } from '../orders/summary.js';

/**
 * What every sink receives (docs/interface.md, "What sinks receive"). `id` is the delivery id: the
 * same for the same order state on every retry and every sink.
 */
export interface DeliveryEnvelope {
  id: string;
  type: string;
  timestamp: string;
  data: {
    /** The `data` object of MORI's order detail (v3, or v2 where configured), exactly as served. */
    order: Record<string, unknown>;
    /** The same facts in one shape for every API version (src/orders/summary.ts). */
    summary: OrderSummary;
    event: { eventId: string; eventType: string; occurredAt: string | null; receivedAt: string; source: EventSource };
  };
}

/** How the order state was announced: a MORI webhook, the enqueue-order command, or the reconciler. */
export type EventSource = 'webhook' | 'manual' | 'reconcile';

/** A destination. `deliver` resolves once the sink has the envelope, and rejects otherwise. */
export interface Sink {
  readonly name: string;
  readonly type: 'http' | 'file' | 'redis-stream' | 'stdout' | 'archive';
  deliver(envelope: DeliveryEnvelope): Promise<void>;
  close(): Promise<void>;
}

/**
 * A failed delivery. `retryAfterMs` carries a receiver's Retry-After so the next attempt waits at
 * least that long; every failure is retried until the sink's budget runs out.
 */
export class SinkError extends Error {
  readonly sink: string;
  readonly retryAfterMs: number | undefined;
  /** The HTTP status the receiver answered, for an http sink that got an answer (the order timeline shows it). */
  readonly status: number | undefined;
  constructor(
    sink: string,
    message: string,
    options: { retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SinkError';
    this.sink = sink;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}
