import { TIMED_OUT, withinDeadline } from '../within-deadline.js';
import { AppError } from '../errors.js';
import type { EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';
import { waitForReplicas, type ReplicaWait } from '../wait-for-replicas.js';
import type { Intake } from './intake.js';
import type { MoriEvent } from './normalize-event.js';

export type EnqueueOutcome = 'accepted' | 'duplicate';

export interface EnqueueOptions {
  /** The enqueue loses the race past this and the route answers 503 (WEBHOOK_ENQUEUE_TIMEOUT_MS). */
  deadlineMs: number;
  receivedAt: Date;
  /** Answer only once this many replicas hold the entry (REDIS_WAIT_REPLICAS); within the deadline. */
  replicaWait?: ReplicaWait & {
    /** The intake's own connection: WAIT counts the replicas that have this connection's writes. */
    client: Redis;
    /** A key of ours, so that on a cluster the WAIT goes to the master of our slot. */
    key: string;
  };
}

/**
 * Records the entry, then, when asked, waits for replicas to hold it: an event answered 200 must
 * survive its master failing. A duplicate waits too, since the entry it matched may be the one
 * still on its way to the replicas.
 */
async function addDurably(intake: Intake, data: EventJobData, opts: EnqueueOptions): Promise<boolean> {
  const added = await intake.add(data);
  const wait = opts.replicaWait;
  if (wait && wait.replicas > 0) {
    const confirmed = await waitForReplicas(wait.client, wait.key, wait);
    if (confirmed < wait.replicas) {
      throw new Error(`${confirmed} of ${wait.replicas} replicas confirmed the event within ${wait.timeoutMs} ms`);
    }
  }
  return added;
}

/**
 * Records the event in the intake, deduplicated by its eventId, in one Redis round trip shared with
 * every other webhook of the same turn (src/webhook/intake.ts).
 *
 * The dedupe mark and the entry are written by one script, so there is no moment where the mark
 * exists without the entry: a separate mark-then-add would swallow MORI's retry whenever the add
 * failed after the mark. If the script never runs (Redis away), neither exists and MORI's retry
 * starts over. If it ran but the answer was lost (timeout), the entry exists and MORI's retry is
 * answered as a duplicate: in both cases nothing is lost and nothing is queued twice. The mark
 * carries its own TTL (DEDUPE_WINDOW_SECONDS), independent of how long jobs are kept.
 */
export async function enqueueEvent(intake: Intake, event: MoriEvent, opts: EnqueueOptions): Promise<EnqueueOutcome> {
  const data: EventJobData = {
    eventId: event.eventId,
    eventType: event.eventType,
    orderId: event.orderId,
    occurredAt: event.occurredAt,
    receivedAt: opts.receivedAt.toISOString(),
    generation: event.generation,
  };
  let added: boolean | typeof TIMED_OUT;
  try {
    added = await withinDeadline(addDurably(intake, data, opts), opts.deadlineMs);
  } catch (err) {
    throw new AppError('QUEUE_UNAVAILABLE', 'the queue is unavailable', { cause: err });
  }
  if (added === TIMED_OUT)
    throw new AppError('QUEUE_UNAVAILABLE', `the queue did not answer within ${opts.deadlineMs} ms`);
  return added ? 'accepted' : 'duplicate';
}
