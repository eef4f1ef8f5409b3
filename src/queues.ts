import { randomUUID } from 'node:crypto';
import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from './redis.js';

/**
 * Queue names carry no ":" and share the `{mori}` hash-tag prefix (FIELD-NOTES.md "Naming").
 * `events`: one job per accepted webhook event; its worker fetches the order.
 * `deliveries`: one job per (order state, sink); its worker delivers one envelope to one sink.
 */
export const EVENTS_QUEUE = 'mori-events';
export const DELIVERIES_QUEUE = 'mori-deliveries';
export const FETCH_ORDER_JOB = 'fetch-order';
export const DELIVER_JOB = 'deliver';

export type EventGeneration = 'current' | 'legacy';

/** What a fetch job carries: ids and times only. Presigned URLs from the body never enter Redis. */
export interface EventJobData {
  eventId: string;
  eventType: string;
  orderId: string;
  occurredAt: string | null;
  receivedAt: string;
  generation: EventGeneration;
}

/**
 * Job ids are random with a prefix: BullMQ rejects custom ids that parse as integers, and a raw
 * order id (digits) would trip that check only sometimes (FIELD-NOTES.md "Job ids").
 */
export function newEventJobId(): string {
  return `evt-${randomUUID()}`;
}

/** Completed jobs are kept a day for inspection; dedupe does not depend on them (it has its own TTL key). */
const REMOVE_ON_COMPLETE = { age: 24 * 3600, count: 5000 };

/** Failed jobs are our dead letters: kept until replayed (CONTRACT.md B, "Retry budgets"). */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: REMOVE_ON_COMPLETE,
  removeOnFail: false,
};

export function createEventsQueue(connection: Redis, prefix: string): Queue<EventJobData> {
  return new Queue<EventJobData>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    // The producer must fail fast, not wait for a Redis that is away (FIELD-NOTES.md, bullmq#995).
    skipWaitingForReady: true,
    streams: { events: { maxLen: 10_000 } },
  });
}
