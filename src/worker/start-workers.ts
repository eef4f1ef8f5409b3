import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import { DELIVERIES_QUEUE, EVENTS_QUEUE, createDeliveriesQueue, type DeliveryJobData, type EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';
import type { Sink } from '../sinks/sink.js';
import { createDeliverProcessor } from './deliver-job.js';
import { createDeliveryLedger } from './delivery-ledger.js';
import { createFetchOrderProcessor } from './fetch-order-job.js';
import { createRetryDelay } from './retry-delay.js';

export interface WorkerDeps {
  config: Config;
  /** A `worker` connection (maxRetriesPerRequest: null); BullMQ duplicates it for blocking calls. */
  connection: Redis;
  /** A `plain` connection for the delivery ledger. */
  redis: Redis;
  mori: MoriClient;
  sinks: readonly Sink[];
  metrics: Metrics;
  logger: Logger;
  /** Stored on every job this process handles (Bull Board shows it), e.g. `host:pid`. */
  name?: string;
}

export interface Workers {
  events: Worker<EventJobData>;
  deliveries: Worker<DeliveryJobData>;
  /** Stops taking jobs and waits for the active ones; `force` hands them back (they stall and are retried). */
  close(force?: boolean): Promise<void>;
}

/** Starts one BullMQ worker per queue with the stalled-job, lock, limiter and retry settings of the config. */
export function startWorkers(deps: WorkerDeps): Workers {
  const { config, metrics, logger } = deps;
  const deliveriesQueue = createDeliveriesQueue(deps.connection, config.REDIS_PREFIX);
  const common = {
    name: deps.name,
    connection: deps.connection,
    prefix: config.REDIS_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // A dead worker's lock lapses after lockDuration; the next stalled check (every stalledInterval)
    // hands its jobs to a live worker. Two stalls are tolerated so one crash plus one deploy does not
    // fail a job (FIELD-NOTES.md pain 6).
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
    settings: { backoffStrategy: createRetryDelay(config) },
  };

  const fetchOrder = createFetchOrderProcessor({
    config,
    mori: deps.mori,
    deliveries: deliveriesQueue,
    sinks: config.sinks,
    metrics,
    logger,
    pauseQueue: (ms) => events.rateLimit(ms),
  });
  const events: Worker<EventJobData> = new Worker<EventJobData>(EVENTS_QUEUE, fetchOrder, {
    ...common,
    // One budget for MORI look-ups shared by every worker process (BullMQ's limiter is global).
    limiter: { max: config.MORI_RATE_LIMIT_MAX, duration: config.MORI_RATE_LIMIT_WINDOW_MS },
  });
  const deliveries = new Worker<DeliveryJobData>(
    DELIVERIES_QUEUE,
    createDeliverProcessor({ config, mori: deps.mori, sinks: deps.sinks, ledger: createDeliveryLedger(deps.redis, config.REDIS_PREFIX), metrics, logger }),
    common,
  );

  for (const [queue, worker] of [
    [EVENTS_QUEUE, events],
    [DELIVERIES_QUEUE, deliveries],
  ] as const) {
    worker.on('failed', (job: Job | undefined, err: Error) => {
      // 'failed' fires on every failed attempt; finishedOn is set only when the job is dead-lettered.
      if (!job?.finishedOn) return;
      metrics.deadLetters.inc({ queue });
      logger.error(
        { queue, jobId: job.id, eventId: job.data?.eventId ?? job.data?.event?.eventId, orderId: job.data?.orderId, sink: job.data?.sinkName, err: err.message },
        'job dead-lettered; replay it once the cause is fixed',
      );
    });
    worker.on('error', (err) => logger.error({ queue, err }, 'worker error'));
  }

  return {
    events,
    deliveries,
    close: async (force = false) => {
      // Events first: a look-up finishing now queues its deliveries, and the deliveries worker,
      // still running, sends them before it stops too. Whatever is left waits in Redis.
      await events.close(force);
      await deliveries.close(force);
      await deliveriesQueue.close();
    },
  };
}
