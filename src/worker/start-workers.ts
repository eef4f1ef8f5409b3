import { hostname } from 'node:os';
import { Worker, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import { lookupBudgetKey, reconcileLastSuccessKey, stateSeenKey } from '../keys.js';
import { PLAN_LIMITS_PER_MINUTE, budgetCeiling, createLookupBudget } from '../mori/lookup-budget.js';
import {
  RECONCILE_JOB,
  RECONCILE_QUEUE,
  createReconcileQueue,
  DELIVERIES_QUEUE,
  EVENTS_QUEUE,
  createDeliveriesQueue,
  createEventsQueue,
  type DeliveryJobData,
  type EventJobData,
} from '../queues.js';
import type { Redis } from '../redis.js';
import type { Sink } from '../sinks/sink.js';
import { NO_TRACING, type Tracing } from '../tracing.js';
import { createOrderHistory } from '../history/order-history.js';
import { throttledWarning } from '../throttled-warning.js';
import { createHistoryRecorder } from './create-history-recorder.js';
import { createDeliverProcessor, type DeliverResult } from './deliver-job.js';
import { createDeliveryLedger } from './delivery-ledger.js';
import { testModeOf } from './envelope.js';
import { createFetchOrderProcessor } from './fetch-order-job.js';
import { createIntakePromoter } from './promote-intake.js';
import { createReconcileProcessor } from './reconcile-job.js';
import { createRetryDelay } from './retry-delay.js';
import { traceDeliver, traceFetchOrder } from './trace-jobs.js';

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
  /** Traces, when the OTEL_* variables ask for them (src/telemetry.ts); none by default. */
  tracing?: Tracing;
}

export interface Workers {
  events: Worker<EventJobData>;
  deliveries: Worker<DeliveryJobData>;
  /** The reconciler's worker, when RECONCILE_INTERVAL_MS is not 0. */
  reconciler: Worker | undefined;
  /** Stops taking jobs and waits for the active ones; `force` hands them back (they stall and are retried). */
  close(force?: boolean): Promise<void>;
}

/** Starts one BullMQ worker per queue with the stalled-job, lock, limiter and retry settings of the config. */
export function startWorkers(deps: WorkerDeps): Workers {
  const { config, metrics, logger } = deps;
  const tracing = deps.tracing ?? NO_TRACING;
  const deliveriesQueue = createDeliveriesQueue(deps.connection, config.REDIS_PREFIX, tracing.bullmq);
  const eventsQueue = createEventsQueue(deps.connection, config.REDIS_PREFIX, tracing.bullmq);
  // Without a listener BullMQ prints each error's whole stack to the console, many lines each,
  // around the JSON log; with one, an outage costs a line per interval (src/throttled-warning.ts).
  deliveriesQueue.on('error', throttledWarning(logger, { queue: DELIVERIES_QUEUE }, 'queue error'));
  eventsQueue.on('error', throttledWarning(logger, { queue: EVENTS_QUEUE }, 'queue error'));
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
      metrics.moriBudgetRate.set(
        { kind: 'current' },
        Math.round((max * config.MORI_RATE_LIMIT_WINDOW_MS) / durationMs),
      );
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
    telemetry: tracing.bullmq,
  };

  // Every look-up and delivery attempt goes into the order's history, kept as long as its dedupe mark.
  const history = createHistoryRecorder(
    createOrderHistory(deps.redis, config.REDIS_PREFIX, config.DEDUPE_WINDOW_SECONDS * 1000),
    logger,
  );
  const mori = history.mori(deps.mori);
  const testMode = testModeOf(config.MORI_API_TOKEN);

  // A handled state is remembered at least as long as the reconciler looks back, plus a day.
  const seenTtlSeconds = Math.max(config.DEDUPE_WINDOW_SECONDS, Math.ceil(config.RECONCILE_HORIZON_MS / 1000) + 86_400);
  const fetchOrder = createFetchOrderProcessor({
    config,
    mori,
    budget,
    deliveries: deliveriesQueue,
    sinks: config.sinks,
    metrics,
    logger,
    pauseQueue: (ms) => events.rateLimit(ms),
    markSeen: (deliveryId) => deps.redis.set(stateSeenKey(config.REDIS_PREFIX, deliveryId), '1', 'EX', seenTtlSeconds),
  });
  // No Worker `limiter`: the budget sets the queue's global rate limit in Redis, which every worker
  // reads at each job fetch, so a slow-down reaches all of them (docs/decisions.md, "The look-up budget").
  const events: Worker<EventJobData> = new Worker<EventJobData>(
    EVENTS_QUEUE,
    traceFetchOrder(history.events(fetchOrder), tracing),
    common,
  );
  const deliveries = new Worker<DeliveryJobData, DeliverResult>(
    DELIVERIES_QUEUE,
    traceDeliver(
      createDeliverProcessor({
        config,
        testMode,
        mori,
        sinks: deps.sinks,
        ledger: createDeliveryLedger(deps.redis, config.REDIS_PREFIX, {
          replicas: config.REDIS_WAIT_REPLICAS,
          timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
          onShortfall: throttledWarning(
            logger,
            { queue: DELIVERIES_QUEUE },
            'a delivery mark reached fewer replicas than REDIS_WAIT_REPLICAS; a failover now could repeat that delivery',
          ),
        }),
        metrics,
        logger,
      }),
      tracing,
    ),
    common,
  );
  history.deliveries(deliveries, testMode === undefined ? {} : { test: testMode });

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
    worker.on('error', throttledWarning(logger, { queue }, 'worker error'));
  }

  const reconciler = config.RECONCILE_INTERVAL_MS > 0 ? startReconciler(deps, eventsQueue) : undefined;

  // The webhook records events in the intake; this worker turns them into jobs (src/webhook/intake.ts).
  const promoter = createIntakePromoter({
    redis: deps.redis,
    queue: eventsQueue,
    prefix: config.REDIS_PREFIX,
    dedupeTtlMs: config.DEDUPE_WINDOW_SECONDS * 1000,
    consumer: deps.name ?? `${hostname()}:${process.pid}`,
    logger,
  });
  promoter.start();

  return {
    events,
    deliveries,
    reconciler: reconciler?.worker,
    close: async (force = false) => {
      // Events first: a look-up finishing now queues its deliveries, and the deliveries worker,
      // still running, sends them before it stops too. Whatever is left waits in Redis.
      clearInterval(recovery);
      await promoter.close();
      await started;
      await reconciler?.close(force);
      await events.close(force);
      await deliveries.close(force);
      await Promise.all([deliveriesQueue.close(), eventsQueue.close()]);
    },
  };
}

/**
 * The reconciler: BullMQ's job scheduler adds a sweep every RECONCILE_INTERVAL_MS, and the queue's
 * global concurrency of 1 runs one at a time across every worker (a scheduler alone lets a slow
 * sweep overlap the next: bullmq#3032). A worker that starts after a gap longer than the interval
 * (the service was down) asks for a sweep at once; two starting together ask once (deduplicated).
 */
const RECONCILE_SCHEDULER = 'mori-reconcile';

function startReconciler(
  deps: WorkerDeps,
  eventsQueue: Queue<EventJobData>,
): { worker: Worker; close(force: boolean): Promise<void> } {
  const { config, logger } = deps;
  const queue = createReconcileQueue(deps.connection, config.REDIS_PREFIX, deps.tracing?.bullmq);
  queue.on('error', throttledWarning(logger, { queue: RECONCILE_QUEUE }, 'queue error'));
  const sweep = createReconcileProcessor({
    config,
    mori: deps.mori,
    events: eventsQueue,
    redis: deps.redis,
    metrics: deps.metrics,
    logger,
  });
  const worker = new Worker(RECONCILE_QUEUE, () => sweep(), {
    name: deps.name,
    connection: deps.connection,
    prefix: config.REDIS_PREFIX,
    concurrency: 1,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    telemetry: deps.tracing?.bullmq,
  });
  worker.on('error', throttledWarning(logger, { queue: RECONCILE_QUEUE }, 'worker error'));
  const scheduled = (async () => {
    await queue.setGlobalConcurrency(1);
    // A new scheduler sweeps at once by itself; an existing one waits for its next interval, so
    // after a downtime longer than the interval (a last success that old) we ask for one now.
    await queue.upsertJobScheduler(
      RECONCILE_SCHEDULER,
      { every: config.RECONCILE_INTERVAL_MS },
      { name: RECONCILE_JOB },
    );
    const last = Number(await deps.redis.get(reconcileLastSuccessKey(config.REDIS_PREFIX)));
    if (last > 0 && Date.now() - last >= config.RECONCILE_INTERVAL_MS) {
      await queue.add(
        RECONCILE_JOB,
        {},
        { deduplication: { id: 'start-up-sweep', ttl: config.RECONCILE_INTERVAL_MS } },
      );
    }
  })().catch((err: unknown) =>
    logger.warn(
      { err: (err as Error).message },
      'could not schedule the reconciler yet; it starts with the next worker start',
    ),
  );
  return {
    worker,
    close: async (force) => {
      await scheduled;
      await worker.close(force);
      await queue.close();
    },
  };
}
