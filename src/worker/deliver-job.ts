import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import type { DeliveryJobData } from '../queues.js';
import type { Sink } from '../sinks/sink.js';
import type { DeliveryLedger } from './delivery-ledger.js';
import { buildEnvelope } from './envelope.js';
import { spendRetryBudget } from './retry-policy.js';

export interface DeliverDeps {
  config: Pick<Config, 'SINK_RETRY_BUDGET_MS' | 'ORDER_REFRESH_AFTER_MS' | 'WORKER_LOCK_DURATION_MS'>;
  /** Whether the API key sees test orders (`sk_test_`), for the summary; undefined when unknown. */
  testMode?: boolean | undefined;
  mori: Pick<MoriClient, 'getOrder'>;
  sinks: readonly Sink[];
  ledger: DeliveryLedger;
  metrics: Metrics;
  logger: Logger;
}

/** An archive failing this close to `expiresAt` may never complete: MORI deletes the files then. */
const EXPIRY_WARNING_MS = 24 * 3600 * 1000;

export type DeliverResult = { outcome: 'delivered' } | { outcome: 'skipped'; reason: 'delivered' | 'stale' };

/**
 * The deliveries-queue processor: one envelope to one sink, guarded by the ledger so a state
 * reaches the sink once and never after a newer state of the same order. A sink's failure fails
 * only this job, so the other sinks are neither held back nor re-delivered.
 *
 * The window that remains: a crash after the sink accepted the envelope and before the ledger
 * recorded it delivers that envelope again on retry. The envelope keeps its id (and an http sink
 * its `webhook-id`), so the receiver can drop the repeat.
 */
export function createDeliverProcessor(deps: DeliverDeps) {
  const sinks = new Map(deps.sinks.map((s) => [s.name, s]));
  const { metrics } = deps;

  /**
   * The snapshot's presigned URLs may have expired: read the order again, and use it if it is still
   * the same state (so the delivery id still describes it). If MORI is away or the order moved on,
   * deliver the snapshot: a newer state arrives through its own event, and the sink still gets
   * this one's record.
   */
  async function freshOrder(job: Job<DeliveryJobData>, log: Logger): Promise<Record<string, unknown>> {
    const { order, orderId, updatedAt } = job.data;
    try {
      const fresh = await deps.mori.getOrder(orderId, 'refresh');
      if (fresh.status === order.status && fresh.updatedAt === updatedAt) {
        await job.updateData({ ...job.data, order: fresh, fetchedAt: Date.now() });
        return fresh;
      }
      log.info(
        { status: fresh.status },
        'the order moved on since this delivery was queued; sending the state it announces',
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not refresh the order snapshot; sending it as it is');
    }
    return order;
  }

  function warnIfExpiring(sink: Sink, order: Record<string, unknown>, log: Logger): void {
    if (sink.type !== 'archive' || typeof order.expiresAt !== 'string') return;
    const left = Date.parse(order.expiresAt) - Date.now();
    if (!(left < EXPIRY_WARNING_MS)) return;
    metrics.archiveExpiring.inc({ sink: sink.name });
    log.error(
      { expiresAt: order.expiresAt },
      'the archive of this order is still incomplete and MORI deletes its files within a day',
    );
  }

  /**
   * The sink has the envelope: failing the job now would deliver it again on retry. So when Redis
   * is away (a restart, a failover), the mark is retried until it is written, for as long as the
   * job's lock can last without renewal; past that another worker may take the job anyway.
   */
  async function holdUntilMarked(mark: () => Promise<void>, log: Logger): Promise<void> {
    const until = Date.now() + deps.config.WORKER_LOCK_DURATION_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await mark();
      } catch (err) {
        if (Date.now() >= until) throw err;
        if (attempt === 0)
          log.warn(
            { err: (err as Error).message },
            'delivered, but the ledger cannot be written yet; holding the mark until Redis answers',
          );
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  return async function deliver(job: Job<DeliveryJobData>): Promise<DeliverResult> {
    const { sinkName, deliveryId, orderId } = job.data;
    const log = deps.logger.child({
      jobId: job.id,
      eventId: job.data.event.eventId,
      orderId,
      sink: sinkName,
      deliveryId,
    });
    const sink = sinks.get(sinkName);
    if (!sink) throw new UnrecoverableError(`sink "${sinkName}" is not configured on this worker`);
    const updatedAtMs = Date.parse(job.data.updatedAt);
    if (Number.isNaN(updatedAtMs)) throw new UnrecoverableError(`order ${orderId} has an unreadable updatedAt`);

    const verdict = await deps.ledger.check(sinkName, deliveryId, orderId, updatedAtMs);
    if (verdict !== 'new') {
      metrics.deliveries.inc({ sink: sinkName, outcome: verdict === 'delivered' ? 'duplicate' : 'stale' });
      log.info(
        { verdict },
        verdict === 'delivered'
          ? 'already delivered to this sink; skipped'
          : 'a newer state already reached this sink; skipped',
      );
      return { outcome: 'skipped', reason: verdict };
    }

    const order =
      Date.now() - job.data.fetchedAt > deps.config.ORDER_REFRESH_AFTER_MS
        ? await freshOrder(job, log)
        : job.data.order;
    const stop = metrics.deliveryDuration.startTimer({ sink: sinkName });
    try {
      await sink.deliver(
        buildEnvelope({ ...job.data, order }, deps.testMode === undefined ? {} : { test: deps.testMode }),
      );
    } catch (err) {
      stop();
      metrics.deliveries.inc({ sink: sinkName, outcome: 'failed' });
      const message = err instanceof Error ? err.message : String(err);
      const failingSince = spendRetryBudget(
        job.data.failingSince,
        deps.config.SINK_RETRY_BUDGET_MS,
        (s) => `gave up after sink "${sinkName}" failed for ${s} s: ${message}`,
      );
      if (job.data.failingSince === undefined) await job.updateData({ ...job.data, failingSince });
      log.warn({ err: message }, 'delivery failed; will retry with backoff');
      warnIfExpiring(sink, order, log);
      throw err;
    }
    stop();
    await holdUntilMarked(() => deps.ledger.markDelivered(sinkName, deliveryId, orderId, updatedAtMs), log);
    metrics.deliveries.inc({ sink: sinkName, outcome: 'delivered' });
    log.info('delivered');
    return { outcome: 'delivered' };
  };
}
