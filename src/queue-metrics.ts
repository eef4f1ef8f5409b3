import type { Queue } from 'bullmq';
import type { Metrics } from './metrics.js';
import { QUEUE_STATES as STATES } from './queues.js';

/**
 * Refreshes the queue gauges from Redis at scrape time, so any replica (api or worker) reports the
 * shared queues' depth, dead letters and the age of the oldest waiting job.
 */
export function createQueueMetricsCollector(queues: readonly Queue[], metrics: Metrics): () => Promise<void> {
  return async () => {
    await Promise.all(
      queues.map(async (queue) => {
        const [counts, oldest] = await Promise.all([
          queue.getJobCounts(...STATES),
          queue.getJobs(['waiting'], 0, 0, true),
        ]);
        for (const state of STATES) metrics.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
        const age = oldest[0] ? Math.max(0, (Date.now() - oldest[0].timestamp) / 1000) : 0;
        metrics.queueOldestWaitingAge.set({ queue: queue.name }, age);
      }),
    );
  };
}
