import type { Queue } from 'bullmq';
import { readIntakeDepth } from './intake-depth.js';
import type { Metrics } from './metrics.js';
import { QUEUE_STATES as STATES } from './queues.js';
import type { Redis } from './redis.js';

/** The intake's label in the queue gauges: events accepted and not yet jobs (src/webhook/intake.ts). */
const INTAKE_LABEL = 'mori-intake';

/**
 * Refreshes the queue gauges from Redis at scrape time, so any replica (api or worker) reports the
 * shared queues' depth, dead letters and the age of the oldest waiting job. The intake is reported
 * as one more queue whose entries are all `waiting`.
 */
export function createQueueMetricsCollector(
  queues: readonly Queue[],
  metrics: Metrics,
  intake: { redis: Redis; prefix: string },
): () => Promise<void> {
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
      readIntakeDepth(intake.redis, intake.prefix).then(({ entries, oldestSeconds }) => {
        metrics.queueJobs.set({ queue: INTAKE_LABEL, state: 'waiting' }, entries);
        metrics.queueOldestWaitingAge.set({ queue: INTAKE_LABEL }, oldestSeconds ?? 0);
      }),
    ]);
  };
}
