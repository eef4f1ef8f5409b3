import type { Queue } from 'bullmq';
import { TIMED_OUT, withinDeadline } from '../within-deadline.js';
import { AppError } from '../errors.js';
import { FETCH_ORDER_JOB, newEventJobId, type EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';
import { waitForReplicas, type ReplicaWait } from '../wait-for-replicas.js';
import type { MoriEvent } from './normalize-event.js';

export type EnqueueOutcome = 'accepted' | 'duplicate';

export interface EnqueueOptions {
  /** How long an eventId is remembered (DEDUPE_WINDOW_SECONDS). */
  dedupeTtlMs: number;
  /** The enqueue loses the race past this and the route answers 503 (WEBHOOK_ENQUEUE_TIMEOUT_MS). */
  deadlineMs: number;
  receivedAt: Date;
  /** Answer only once this many replicas hold the job (REDIS_WAIT_REPLICAS); within the deadline. */
  replicaWait?: ReplicaWait & { client: Redis };
}

/**
 * Adds the job, then, when asked, waits for replicas to hold it: an event answered 200 must
 * survive its master failing. A duplicate waits too, since the job it matched may be the one
 * still on its way to the replicas.
 */
async function addDurably(queue: Queue<EventJobData>, data: EventJobData, jobId: string, opts: EnqueueOptions) {
  const job = await queue.add(FETCH_ORDER_JOB, data, {
    jobId,
    deduplication: { id: data.eventId, ttl: opts.dedupeTtlMs },
  });
  const wait = opts.replicaWait;
  if (wait && wait.replicas > 0) {
    const confirmed = await waitForReplicas(wait.client, queue.toKey(''), wait);
    if (confirmed < wait.replicas) {
      throw new Error(`${confirmed} of ${wait.replicas} replicas confirmed the job within ${wait.timeoutMs} ms`);
    }
  }
  return job;
}

/**
 * Adds the event to the events queue, deduplicated by its eventId, in one Redis round trip.
 *
 * Why BullMQ's `deduplication` and not our own `SET NX` mark: BullMQ sets the dedupe key inside the
 * same Lua script that adds the job, so there is no moment where the mark exists without the job.
 * A separate mark-then-add would swallow MORI's retry whenever the add failed after the mark.
 * If the script never runs (Redis away), neither exists and MORI's retry starts over. If it ran but
 * the answer was lost (timeout), the job exists and MORI's retry is answered as a duplicate: in
 * both cases nothing is lost and nothing is queued twice. The key carries its own TTL, so it
 * outlives `removeOnComplete` (docs/field-notes.md, "Dedupe"; bullmq#1318).
 *
 * The job id is random: a deduplicated add returns the id of the job already holding the key, so
 * "a different id came back" is exactly "this event was seen before".
 */
export async function enqueueEvent(
  queue: Queue<EventJobData>,
  event: MoriEvent,
  opts: EnqueueOptions,
): Promise<EnqueueOutcome> {
  const jobId = newEventJobId();
  const data: EventJobData = {
    eventId: event.eventId,
    eventType: event.eventType,
    orderId: event.orderId,
    occurredAt: event.occurredAt,
    receivedAt: opts.receivedAt.toISOString(),
    generation: event.generation,
  };
  let job: Awaited<ReturnType<typeof queue.add>> | typeof TIMED_OUT;
  try {
    job = await withinDeadline(addDurably(queue, data, jobId, opts), opts.deadlineMs);
  } catch (err) {
    throw new AppError('QUEUE_UNAVAILABLE', 'the queue is unavailable', { cause: err });
  }
  if (job === TIMED_OUT)
    throw new AppError('QUEUE_UNAVAILABLE', `the queue did not answer within ${opts.deadlineMs} ms`);
  return job.id === jobId ? 'accepted' : 'duplicate';
}
