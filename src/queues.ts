import { randomUUID } from 'node:crypto';
import { Queue, type DefaultJobOptions, type Telemetry } from 'bullmq';
import type { EventGeneration } from './orders/order-status.js';
import type { EventSource } from './sinks/sink.js';
import type { Redis } from './redis.js';

/**
 * Queue names carry no ":" and share the `{mori}` hash-tag prefix (docs/field-notes.md "Naming").
 * `events`: one job per accepted webhook event; its worker fetches the order.
 * `deliveries`: one job per (order state, sink); its worker delivers one envelope to one sink.
 */
export const EVENTS_QUEUE = 'mori-events';
export const DELIVERIES_QUEUE = 'mori-deliveries';
export const FETCH_ORDER_JOB = 'fetch-order';
/** `mori-reconcile`: one sweep of MORI's order list at a time, across every worker. */
export const RECONCILE_QUEUE = 'mori-reconcile';
export const RECONCILE_JOB = 'sweep';
export const DELIVER_JOB = 'deliver';
/** The job states the gauges and `status` report; `failed` is where dead letters wait. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/** What a fetch job carries: ids and times only. Presigned URLs from the body never enter Redis. */
export interface EventJobData {
  eventId: string;
  eventType: string;
  orderId: string;
  occurredAt: string | null;
  receivedAt: string;
  generation: EventGeneration;
  /** Set by the worker: when MORI look-ups started failing (start of the MORI retry budget). */
  failingSince?: number;
  /** Set by the worker: when the order was first seen not final (start of the pending budget). */
  pendingSince?: number;
  pendingChecks?: number;
  /** Set by the worker when the job goes round again: MORI calls this job made so far. */
  moriCalls?: number;
}

/**
 * What a delivery job carries: one order state for one sink. The order is the snapshot MORI
 * served, so the envelope matches its delivery id on every attempt.
 */
export interface DeliveryJobData {
  deliveryId: string;
  sinkName: string;
  orderId: string;
  updatedAt: string;
  order: Record<string, unknown>;
  /** When the order snapshot was read from MORI (epoch ms); its presigned URLs age from then. */
  fetchedAt: number;
  event: { eventId: string; eventType: string; occurredAt: string | null; receivedAt: string; source?: EventSource };
  /** Set by the worker: when this sink started failing (start of the sink retry budget). */
  failingSince?: number;
}

/**
 * Job ids are random with a prefix: BullMQ rejects custom ids that parse as integers, and a raw
 * order id (digits) would trip that check only sometimes (docs/field-notes.md "Job ids").
 */
export function newEventJobId(): string {
  return `evt-${randomUUID()}`;
}

/**
 * Retries are bounded by time, not by count: each processor compares the time since the first
 * failure with its budget (MORI_RETRY_BUDGET_MS, ORDER_PENDING_BUDGET_MS, SINK_RETRY_BUDGET_MS) and
 * gives up with an UnrecoverableError. The attempt count only has to be larger than any budget
 * could use up; the delays come from the worker's backoff strategy, keyed by these type names.
 */
const UNBOUNDED_ATTEMPTS = 1_000_000;
export const MORI_BACKOFF = 'mori-lookup';
export const SINK_BACKOFF = 'sink-delivery';

/** One delivery job per (order state, sink); the delivery id already starts with `dlv_`. */
export function deliveryJobId(deliveryId: string, sinkName: string): string {
  return `${deliveryId}-${sinkName}`;
}

/** Completed jobs are kept a day for inspection; dedupe does not depend on them (it has its own TTL key). */
const REMOVE_ON_COMPLETE = { age: 24 * 3600, count: 5000 };

/** Failed jobs are our dead letters: kept until replayed (docs/interface.md, "Retry budgets"). */
const KEEP_JOBS = { removeOnComplete: REMOVE_ON_COMPLETE, removeOnFail: false } as const;

const EVENT_JOB_OPTIONS: DefaultJobOptions = {
  ...KEEP_JOBS,
  attempts: UNBOUNDED_ATTEMPTS,
  backoff: { type: MORI_BACKOFF },
};
const DELIVERY_JOB_OPTIONS: DefaultJobOptions = {
  ...KEEP_JOBS,
  attempts: UNBOUNDED_ATTEMPTS,
  backoff: { type: SINK_BACKOFF },
};

/**
 * `telemetry` (bullmq-otel, when traces are on) carries the trace of the job that adds a job into
 * the job it adds (docs/interface.md, "Traces").
 */
export function createDeliveriesQueue(
  connection: Redis,
  prefix: string,
  telemetry?: Telemetry,
): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERIES_QUEUE, {
    connection,
    prefix,
    telemetry,
    defaultJobOptions: DELIVERY_JOB_OPTIONS,
    streams: { events: { maxLen: 10_000 } },
  });
}

export function createEventsQueue(connection: Redis, prefix: string, telemetry?: Telemetry): Queue<EventJobData> {
  return new Queue<EventJobData>(EVENTS_QUEUE, {
    connection,
    prefix,
    telemetry,
    defaultJobOptions: EVENT_JOB_OPTIONS,
    // The producer must fail fast, not wait for a Redis that is away (docs/field-notes.md, bullmq#995).
    skipWaitingForReady: true,
    streams: { events: { maxLen: 10_000 } },
  });
}

/** Sweeps are kept briefly: their outcome lives in metrics and logs; a failed sweep is simply the next one's job. */
const RECONCILE_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
  attempts: 1,
};

export function createReconcileQueue(connection: Redis, prefix: string, telemetry?: Telemetry): Queue {
  return new Queue(RECONCILE_QUEUE, {
    connection,
    prefix,
    telemetry,
    defaultJobOptions: RECONCILE_JOB_OPTIONS,
    streams: { events: { maxLen: 1000 } },
  });
}
