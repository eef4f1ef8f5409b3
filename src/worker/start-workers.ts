import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import { lookupBudgetKey } from '../keys.js';
import { PLAN_LIMITS_PER_MINUTE, budgetCeiling, createLookupBudget } from '../mori/lookup-budget.js';
import {
  DELIVERIES_QUEUE,
  EVENTS_QUEUE,
  createDeliveriesQueue,
  createEventsQueue,
  type DeliveryJobData,
  type EventJobData,
} from '../queues.js';
import type { Redis } from '../redis.js';
import type { Sink } from '../sinks/sink.js';
import { createDeliverProcessor } from './deliver-job.js';
import { createDeliveryLedger } from './delivery-ledger.js';
import { testModeOf } from './envelope.js';
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
  const eventsQueue = createEventsQueue(deps.connection, config.REDIS_PREFIX);
  const ceiling = budgetCeiling(
    config.MORI_RATE_LIMIT_PER_MINUTE ?? PLAN_LIMITS_PER_MINUTE[config.MORI_PLAN],
    config.MORI_BUDGET_SHARE,
  );
  metrics.moriBudgetRate.set({ kind: 'ceiling' }, ceiling);
  const budget = createLookupBudget({
    redis: deps.redis,
    key: lookupBudgetKey(config.REDIS_PREFIX),
    ceiling,
    windowMs: config.MORI_RATE_LIMIT_WINDOW_MS,
    apply: async ({ max, durationMs }) => {
      await eventsQueue.setGlobalRateLimit(max, durationMs);
      metrics.moriBudgetRate.set({ kind: 'current' }, Math.round(config.MORI_RATE_LIMIT_WINDOW_MS / durationMs));
    },
  });
  const started = budget
    .start()
    .catch((err: unknown) =>
      logger.warn(
        { err: (err as Error).message },
        'could not set the MORI look-up budget yet; retrying on the next tick',
      ),
    );
  // Recovery is tried six times a window; the script itself allows one increase per window.
  const recovery = setInterval(
    () => {
      budget
        .recover()
        .catch((err: unknown) =>
          logger.warn({ err: (err as Error).message }, 'could not raise the MORI look-up budget'),
        );
    },
    Math.ceil(config.MORI_RATE_LIMIT_WINDOW_MS / 6),
  );
  recovery.unref();
  const common = {
    name: deps.name,
    connection: deps.connection,
    prefix: config.REDIS_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // A dead worker's lock lapses after lockDuration; the next stalled check (every stalledInterval)
    // hands its jobs to a live worker. Two stalls are tolerated so one crash plus one deploy does not
    // fail a job (docs/field-notes.md pain 6).
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
    settings: { backoffStrategy: createRetryDelay(config) },
  };

  const fetchOrder = createFetchOrderProcessor({
    config,
    mori: deps.mori,
    budget,
    deliveries: deliveriesQueue,
    sinks: config.sinks,
    metrics,
    logger,
    pauseQueue: (ms) => events.rateLimit(ms),
  });
  // No Worker `limiter`: the budget sets the queue's global rate limit in Redis, which every worker
  // reads at each job fetch, so a slow-down reaches all of them (docs/decisions.md, "The look-up budget").
  const events: Worker<EventJobData> = new Worker<EventJobData>(EVENTS_QUEUE, fetchOrder, common);
  const deliveries = new Worker<DeliveryJobData>(
    DELIVERIES_QUEUE,
    createDeliverProcessor({
      config,
      testMode: testModeOf(config.MORI_API_TOKEN),
      mori: deps.mori,
      sinks: deps.sinks,
      ledger: createDeliveryLedger(deps.redis, config.REDIS_PREFIX),
      metrics,
      logger,
    }),
    common,
  );

  for (const [queue, worker] of [
    [EVENTS_QUEUE, events],
    [DELIVERIES_QUEUE, deliveries],
  ] as const) {
    worker.on('failed', (job: Job<Partial<EventJobData & DeliveryJobData>> | undefined, err: Error) => {
      // 'failed' fires on every failed attempt; finishedOn is set only when the job is dead-lettered.
      if (!job?.finishedOn) return;
      metrics.deadLetters.inc({ queue });
      logger.error(
        {
          queue,
          jobId: job.id,
          eventId: job.data?.eventId ?? job.data?.event?.eventId,
          orderId: job.data?.orderId,
          sink: job.data?.sinkName,
          err: err.message,
        },
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
      clearInterval(recovery);
      await started;
      await events.close(force);
      await deliveries.close(force);
      await Promise.all([deliveriesQueue.close(), eventsQueue.close()]);
    },
  };
}
