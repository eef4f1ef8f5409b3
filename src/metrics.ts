import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    moriLookupDuration: new Histogram({
      name: 'mori_api_request_duration_seconds',
      help: 'MORI API calls by HTTP status, or timeout / network_error',
      labelNames: ['status'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    moriCalls: new Counter({
      name: 'mori_api_calls_total',
      help: "Every call made to MORI, spent from the account's shared budget: by purpose (lookup, recheck, retry, refresh), endpoint and HTTP status (or timeout / network_error)",
      labelNames: ['purpose', 'endpoint', 'status'] as const,
      registers: [registry],
    }),
    moriRateLimited: new Counter({
      name: 'mori_api_rate_limited_total',
      help: 'MORI answers of RATE_LIMIT_EXCEEDED: each halves the shared look-up rate (at most once per window)',
      registers: [registry],
    }),
    moriQuotaExhausted: new Counter({
      name: 'mori_api_quota_exhausted_total',
      help: "MORI answers saying the plan's usage is spent (USAGE_LIMIT_EXCEEDED, USAGE_NOT_ENOUGH, PLAN_LIMIT_EXCEEDED), by code; look-ups pause, events wait",
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    moriDeprecations: new Counter({
      name: 'mori_api_deprecation_notices_total',
      help: 'MORI answers carrying Deprecation or Sunset headers, by endpoint: plan the move before the endpoint answers 410',
      labelNames: ['endpoint'] as const,
      registers: [registry],
    }),
    moriBudgetRate: new Gauge({
      name: 'mori_api_budget_calls_per_window',
      help: 'Look-ups per MORI rate window the workers may make now (the shared budget after any slow-down), and the ceiling',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    moriAuthFailures: new Counter({
      name: 'mori_api_auth_failures_total',
      help: 'MORI answers of 401/403 to our API token: a configuration error; look-ups pause while it lasts',
      registers: [registry],
    }),
    orderRechecks: new Counter({
      name: 'mori_order_rechecks_total',
      help: 'Look-ups that found the order not final yet (pending, inProgress) and scheduled another',
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'mori_sink_deliveries_total',
      help: 'Delivery attempts by sink and outcome: delivered, failed, duplicate (already delivered), stale (a newer state was), filtered',
      labelNames: ['sink', 'outcome'] as const,
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: 'mori_sink_delivery_duration_seconds',
      help: 'Time one delivery attempt took, by sink',
      labelNames: ['sink'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'mori_dead_letters_total',
      help: 'Jobs that exhausted their retry budget (or could never succeed) and now wait in the failed set for a replay, by queue',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
    archiveBytes: new Counter({
      name: 'mori_archive_bytes_total',
      help: 'Bytes of MORI output files stored by archive sinks',
      registers: [registry],
    }),
    archiveExpiring: new Counter({
      name: 'mori_archive_expiring_total',
      help: "Archive deliveries that failed within 24 h of the order's expiresAt, when MORI deletes its files: fix the sink before they are gone",
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
    reconcileSweeps: new Counter({
      name: 'mori_reconcile_sweeps_total',
      help: "Reconciler sweeps of MORI's order list, by outcome (success, failed)",
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reconcilePages: new Counter({
      name: 'mori_reconcile_pages_total',
      help: "Pages of MORI's order list read by the reconciler (each one MORI call)",
      registers: [registry],
    }),
    reconcileMissed: new Counter({
      name: 'mori_reconcile_missed_total',
      help: 'Final orders the reconciler found whose webhook never arrived: webhooks are being lost (check the secret, the webhook at MORI, outages)',
      registers: [registry],
    }),
    reconcileLastSuccess: new Gauge({
      name: 'mori_reconcile_last_success_timestamp_seconds',
      help: 'When this process last finished a reconciler sweep (Unix seconds)',
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'mori_queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed, failed = dead letters, completed), read at scrape time',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
    queueOldestWaitingAge: new Gauge({
      name: 'mori_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest job waiting to be processed, per queue (0 when none wait): grows when workers fall behind',
      labelNames: ['queue'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
