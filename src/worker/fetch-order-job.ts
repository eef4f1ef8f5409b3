import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { fullJitter } from '../outbound/backoff.js';
import type { LookupBudget } from '../mori/lookup-budget.js';
import { MoriApiError, type CallPurpose, type MoriClient } from '../mori/mori-client.js';
import type { MoriOrder } from '../mori/order-schema.js';
import { summarizeOrder } from '../orders/summary.js';
import { isFinal } from '../orders/order-status.js';
import { DELIVER_JOB, deliveryJobId, type DeliveryJobData, type EventJobData } from '../queues.js';
import { matchesFilter } from '../sinks/sink-filter.js';
import type { SinkConfig } from '../sinks/sink-config.js';
import type { EventSource } from '../sinks/sink.js';
import { deliveryIdFor } from './envelope.js';
import { spendRetryBudget } from './retry-policy.js';

export interface FetchOrderDeps {
  config: Pick<
    Config,
    | 'MORI_RETRY_BUDGET_MS'
    | 'MORI_AUTH_PAUSE_MS'
    | 'MORI_QUOTA_PAUSE_MS'
    | 'MORI_RATE_LIMIT_WINDOW_MS'
    | 'ORDER_PENDING_BUDGET_MS'
    | 'ORDER_PENDING_BASE_MS'
    | 'ORDER_PENDING_MAX_DELAY_MS'
  >;
  mori: Pick<MoriClient, 'getOrder'>;
  /** The account's look-up budget, shared by every worker: slowed down together on a 429. */
  budget: Pick<LookupBudget, 'onRateLimited'>;
  deliveries: Queue<DeliveryJobData>;
  sinks: readonly Pick<SinkConfig, 'name' | 'filter'>[];
  metrics: Metrics;
  logger: Logger;
  /** Pauses this queue for every worker (BullMQ's global rate limit). */
  pauseQueue: (ms: number) => Promise<void>;
  /** Records that this order state's deliveries are queued, so the reconciler does not look it up again. */
  markSeen: (deliveryId: string) => Promise<unknown>;
}

export interface FetchOrderResult {
  deliveryId: string;
  status: string;
  sinks: string[];
}

const SOURCES: Record<EventJobData['generation'], EventSource> = {
  current: 'webhook',
  legacy: 'webhook',
  manual: 'manual',
  reconcile: 'reconcile',
};

/** The job's next call is a `retry` after a failure, a `recheck` after a not-final order, else the first `lookup`. */
function purposeOf(data: EventJobData): CallPurpose {
  if (!data.moriCalls) return 'lookup';
  return data.failingSince !== undefined || data.pendingSince === undefined ? 'retry' : 'recheck';
}

/**
 * The events-queue processor: look the order up at MORI (the webhook body is never trusted as the
 * result); while it is not final, look again later; once final, queue one delivery per matching sink.
 * One MORI call per run, and every run passes the shared look-up budget (BullMQ's global limiter).
 */
export function createFetchOrderProcessor(deps: FetchOrderDeps) {
  const { config, metrics } = deps;

  /** Back to waiting without spending an attempt or the retry budget: the events wait, nothing is lost. */
  async function holdEveryWorker(job: Job<EventJobData>, pauseMs: number): Promise<never> {
    await job.updateData({ ...job.data, moriCalls: (job.data.moriCalls ?? 0) + 1 });
    await deps.pauseQueue(pauseMs);
    throw new RateLimitError();
  }

  async function onLookupFailure(job: Job<EventJobData>, err: unknown, log: Logger): Promise<never> {
    if (!(err instanceof MoriApiError)) throw err;
    if (err.kind === 'not-found') {
      throw new UnrecoverableError(
        `MORI has no order ${job.data.orderId} for this account (404): the event was mistaken or forged. ${err.message}`,
      );
    }
    if (err.kind === 'client' || err.kind === 'invalid-response') throw new UnrecoverableError(err.message);
    if (err.kind === 'quota') {
      // Retrying does not refill a plan: pause every worker for long stretches and keep the events.
      metrics.moriQuotaExhausted.inc({ code: err.moriCode ?? 'unknown' });
      log.error(
        { code: err.moriCode, pauseMs: config.MORI_QUOTA_PAUSE_MS },
        "the MORI plan's usage is spent; look-ups paused, events kept until it is renewed",
      );
      return holdEveryWorker(job, config.MORI_QUOTA_PAUSE_MS);
    }
    if (err.kind === 'rate-limited') {
      // Every worker slows down together (the rate lives in Redis) and pauses a moment: a sixth of
      // MORI's window, or as long as MORI asks.
      const rate = await deps.budget.onRateLimited();
      metrics.moriRateLimited.inc();
      log.warn(
        { ratePerWindow: rate, retryAfterMs: err.retryAfterMs },
        'MORI answered RATE_LIMIT_EXCEEDED; every worker slows down',
      );
      return holdEveryWorker(job, err.retryAfterMs ?? Math.ceil(config.MORI_RATE_LIMIT_WINDOW_MS / 6));
    }

    const failingSince = spendRetryBudget(
      job.data.failingSince,
      config.MORI_RETRY_BUDGET_MS,
      (s) => `gave up after MORI look-ups failed for ${s} s: ${err.message}`,
    );
    await job.updateData({ ...job.data, failingSince, moriCalls: (job.data.moriCalls ?? 0) + 1 });

    if (err.kind === 'auth') {
      // A configuration error, not an outage: every worker pauses instead of hammering MORI, and the
      // events wait (nothing is lost) until the token is fixed or the MORI retry budget runs out.
      metrics.moriAuthFailures.inc();
      log.error({ status: err.status }, 'MORI refused the API token (check MORI_API_TOKEN); pausing look-ups');
      await deps.pauseQueue(config.MORI_AUTH_PAUSE_MS);
      throw new RateLimitError();
    }
    log.warn({ err: err.message, status: err.status }, 'MORI look-up failed; will retry with backoff');
    throw err;
  }

  return async function fetchOrder(job: Job<EventJobData>, token?: string): Promise<FetchOrderResult> {
    const { orderId, eventId } = job.data;
    const log = deps.logger.child({ jobId: job.id, eventId, orderId });

    let order: MoriOrder;
    try {
      order = await deps.mori.getOrder(orderId, purposeOf(job.data));
    } catch (err) {
      return onLookupFailure(job, err, log);
    }

    if (!isFinal(order.status)) {
      const checks = (job.data.pendingChecks ?? 0) + 1;
      const pendingSince = spendRetryBudget(
        job.data.pendingSince,
        config.ORDER_PENDING_BUDGET_MS,
        (s) => `order ${orderId} was still ${order.status} after ${s} s`,
      );
      const { failingSince: _cleared, ...rest } = job.data;
      await job.updateData({ ...rest, pendingSince, pendingChecks: checks, moriCalls: (job.data.moriCalls ?? 0) + 1 });
      // At least the base delay, so a busy order is never polled in a tight loop.
      const delay = Math.max(
        config.ORDER_PENDING_BASE_MS,
        fullJitter(checks - 1, config.ORDER_PENDING_BASE_MS, config.ORDER_PENDING_MAX_DELAY_MS),
      );
      metrics.orderRechecks.inc();
      log.info({ status: order.status, checks, delayMs: delay }, 'order not final yet; looking again later');
      await job.moveToDelayed(Date.now() + delay, token);
      throw new DelayedError();
    }

    const deliveryId = deliveryIdFor(orderId, order.status, order.updatedAt);
    const event = {
      eventId,
      eventType: job.data.eventType,
      occurredAt: job.data.occurredAt,
      receivedAt: job.data.receivedAt,
      source: SOURCES[job.data.generation],
    };
    const summary = summarizeOrder(order);
    const targets = deps.sinks.filter((s) => matchesFilter(s.filter, summary));
    for (const s of deps.sinks) if (!targets.includes(s)) metrics.deliveries.inc({ sink: s.name, outcome: 'filtered' });
    // Deterministic job ids: two events or two workers announcing the same state add one job per sink.
    await deps.deliveries.addBulk(
      targets.map((s) => ({
        name: DELIVER_JOB,
        data: {
          deliveryId,
          sinkName: s.name,
          orderId,
          updatedAt: order.updatedAt,
          order,
          fetchedAt: Date.now(),
          event,
        },
        opts: { jobId: deliveryJobId(deliveryId, s.name) },
      })),
    );
    await deps.markSeen(deliveryId);
    log.info(
      { deliveryId, status: order.status, sinks: targets.map((s) => s.name) },
      'order is final; deliveries queued',
    );
    return { deliveryId, status: order.status, sinks: targets.map((s) => s.name) };
  };
}
