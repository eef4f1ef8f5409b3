import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from '../redis.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { reconcileLastSuccessKey, stateSeenKey } from '../keys.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import type { OrderListRow } from '../mori/order-schema.js';
import { isFinal, normalizeStatus } from '../orders/order-status.js';
import { FETCH_ORDER_JOB, type EventJobData } from '../queues.js';
import { deliveryIdFor, envelopeType } from './envelope.js';

/**
 * How much further back than the horizon a sweep reads, for orders created earlier that finished
 * within it (a watermark order waiting for MORI's manual recovery, `processingDelayed`): the list
 * has no time filter, so this is read by `createdAt` and kept by `updatedAt`.
 */
const LATE_FINISH_MARGIN_MS = 6 * 3600 * 1000;

/** MORI's largest page (docs/mori-api.md, "Reading orders"). */
const PAGE_SIZE = 100;
/** A runaway guard: 24 h of a busy Enterprise account is far fewer pages than this. */
const MAX_PAGES = 500;
/**
 * BullMQ runs jobs without a priority before prioritised ones, so the look-ups the reconciler
 * queues wait behind every webhook-driven one: the budget goes to webhooks first.
 */
const RECONCILE_PRIORITY = 10;

export interface ReconcileDeps {
  config: Pick<Config, 'REDIS_PREFIX' | 'RECONCILE_HORIZON_MS' | 'RECONCILE_CHANNELS' | 'DEDUPE_WINDOW_SECONDS'>;
  mori: Pick<MoriClient, 'listOrders'>;
  events: Queue<EventJobData>;
  redis: Redis;
  metrics: Metrics;
  logger: Logger;
}

export interface SweepResult {
  pages: number;
  orders: number;
  missed: number;
}

/**
 * One sweep of MORI's order list, most recent first, back to the horizon: every final order whose
 * state the fetch job never handled (no `seen` mark) is queued through the normal path, marked as
 * found by the reconciler. Pages shift while we read (new orders push rows down), so rows are
 * deduped by order id and reading goes one whole page past the horizon before it stops; an order
 * pushed across a page boundary is read twice, never skipped.
 */
export function createReconcileProcessor(deps: ReconcileDeps) {
  const { config, metrics } = deps;
  const channel = config.RECONCILE_CHANNELS.length > 1 ? 'all' : config.RECONCILE_CHANNELS[0]!;

  async function queueMissing(rows: OrderListRow[], now: number, log: Logger): Promise<number> {
    const candidates = rows.map((row) => ({ row, deliveryId: deliveryIdFor(row.orderId, row.status, row.updatedAt) }));
    if (candidates.length === 0) return 0;
    const seen = await deps.redis.mget(...candidates.map((c) => stateSeenKey(config.REDIS_PREFIX, c.deliveryId)));
    const missing = candidates.filter((_, i) => seen[i] === null);
    let queued = 0;
    for (const { row, deliveryId } of missing) {
      const eventType = envelopeType({ type: row.type, status: normalizeStatus(row.status) });
      // Deduplicated by order state, so overlapping sweeps (or a webhook arriving meanwhile with
      // its own job) cost one look-up at most here; the ledger still delivers once either way.
      const jobId = `rec-${randomUUID()}`;
      const job = await deps.events.add(
        FETCH_ORDER_JOB,
        {
          eventId: `reconcile-${deliveryId}`,
          eventType,
          orderId: row.orderId,
          occurredAt: row.updatedAt,
          receivedAt: new Date(now).toISOString(),
          generation: 'reconcile',
        },
        {
          jobId,
          priority: RECONCILE_PRIORITY,
          deduplication: { id: `reconcile-${deliveryId}`, ttl: config.DEDUPE_WINDOW_SECONDS * 1000 },
        },
      );
      // Another id back: an earlier sweep queued this state already and its look-up is pending.
      if (job.id !== jobId) continue;
      queued += 1;
      metrics.reconcileMissed.inc();
      log.warn(
        { orderId: row.orderId, status: row.status, updatedAt: row.updatedAt, deliveryId },
        'found a final order whose webhook never arrived; delivering it now',
      );
    }
    return queued;
  }

  /** One sweep back to the horizon, or to `sinceMs` (the recover command's range) when given. */
  return async function sweep(range: { sinceMs?: number } = {}): Promise<SweepResult> {
    const now = Date.now();
    const cutoff = range.sinceMs ?? now - config.RECONCILE_HORIZON_MS;
    const log = deps.logger.child({ job: 'reconcile' });
    const seenOrders = new Set<string>();
    const result: SweepResult = { pages: 0, orders: 0, missed: 0 };
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const { orders, pageInfo } = await deps.mori.listOrders({ page, limit: PAGE_SIZE, channel }, 'reconcile');
        result.pages += 1;
        metrics.reconcilePages.inc();
        const fresh = orders.filter((o) => !seenOrders.has(o.orderId) && (seenOrders.add(o.orderId), true));
        result.orders += fresh.length;
        // An order belongs to the sweep when it was created or last changed within the horizon.
        const inHorizon = fresh.filter(
          (o) => isFinal(o.status) && (Date.parse(o.createdAt) >= cutoff || Date.parse(o.updatedAt) >= cutoff),
        );
        result.missed += await queueMissing(inHorizon, now, log);
        // Stop on a page created wholly before the horizon less the margin for orders that finish late.
        const pastHorizon =
          orders.length > 0 && orders.every((o) => Date.parse(o.createdAt) < cutoff - LATE_FINISH_MARGIN_MS);
        if (pastHorizon || orders.length < PAGE_SIZE || page >= pageInfo.totalPages) break;
      }
    } catch (err) {
      metrics.reconcileSweeps.inc({ outcome: 'failed' });
      log.warn(
        { err: (err as Error).message, pages: result.pages },
        'reconciler sweep failed; the next one starts over',
      );
      throw err;
    }
    await deps.redis.set(reconcileLastSuccessKey(config.REDIS_PREFIX), String(now));
    metrics.reconcileSweeps.inc({ outcome: 'success' });
    metrics.reconcileLastSuccess.set(now / 1000);
    log.info(result, 'reconciler sweep done');
    return result;
  };
}
