import type { Queue } from 'bullmq';
import { intakeKey } from './keys.js';
import type { Metrics } from './metrics.js';
import { QUEUE_STATES as STATES } from './queues.js';
import type { Redis } from './redis.js';

/** The intake's label in the queue gauges: events accepted and not yet jobs (src/webhook/intake.ts). */
const INTAKE_LABEL = 'mori-intake';

/**
 * Refreshes the queue gauges from Redis at scrape time, so any replica (api or worker) reports the
 * shared queues' depth, dead letters and the age of the oldest waiting job. The intake is reported
 * as one more queue whose entries are all `waiting`: a stream id starts with the time it was added.
 */
export function createQueueMetricsCollector(
  queues: readonly Queue[],
  metrics: Metrics,
  intake: { redis: Redis; prefix: string },
): () => Promise<void> {
  const stream = intakeKey(intake.prefix);
  return async () => {
    await Promise.all([
      ...queues.map(async (queue) => {
        const [counts, oldest] = await Promise.all([
          queue.getJobCounts(...STATES),
          queue.getJobs(['waiting'], 0, 0, true),
        ]);
        for (const state of STATES) metrics.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
        const age = oldest[0] ? Math.max(0, (Date.now() - oldest[0].timestamp) / 1000) : 0;
        metrics.queueOldestWaitingAge.set({ queue: queue.name }, age);
      }),
      (async () => {
        const [length, first] = await Promise.all([
          intake.redis.xlen(stream),
          intake.redis.xrange(stream, '-', '+', 'COUNT', 1),
        ]);
        metrics.queueJobs.set({ queue: INTAKE_LABEL, state: 'waiting' }, length);
        const addedAt = first[0] ? Number(first[0][0].split('-')[0]) : undefined;
        metrics.queueOldestWaitingAge.set(
          { queue: INTAKE_LABEL },
          addedAt === undefined ? 0 : Math.max(0, (Date.now() - addedAt) / 1000),
        );
      })(),
    ]);
  };
}
