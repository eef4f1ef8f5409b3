import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the service exports, on a registry of its own (tests build several side by side).
 * Names follow Prometheus conventions: `mori_` namespace, base units, `_total` for counters.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  return {
    registry,
    webhookEvents: new Counter({
      name: 'mori_webhook_events_total',
      help: 'Webhook requests by outcome (accepted, duplicate, ignored, rejected) and event type',
      labelNames: ['outcome', 'event_type'] as const,
      registers: [registry],
    }),
    webhookRejections: new Counter({
      name: 'mori_webhook_rejections_total',
      help: 'Webhook requests refused, by error code (SIGNATURE_INVALID, INVALID_PAYLOAD, QUEUE_UNAVAILABLE, ...)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    signatureChecks: new Counter({
      name: 'mori_webhook_signature_checks_total',
      help: 'Signature checks by result: raw (matched the bytes received), compact (matched only after re-serialising: a proxy rewrote the body), missing, malformed, mismatch',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: 'mori_webhook_request_duration_seconds',
      help: 'Time from request to answer on the webhook route, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
