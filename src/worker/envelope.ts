import { createHash } from 'node:crypto';
import type { DeliveryJobData } from '../queues.js';
import { summarizeOrder, type OrderSummary } from '../orders/summary.js';
import type { DeliveryEnvelope } from '../sinks/sink.js';

/**
 * The delivery id of an order state: the same for the same (order id, status, updatedAt), whichever
 * event announced it, on every retry and for every sink (docs/interface.md). 128 bits of SHA-256 are
 * plenty to keep distinct states apart; the prefix keeps it from ever looking like an integer.
 */
export function deliveryIdFor(orderId: string, status: string, updatedAt: string): string {
  const digest = createHash('sha256').update(`${orderId}\n${status}\n${updatedAt}`).digest('hex');
  return `dlv_${digest.slice(0, 32)}`;
}

/** `complete` → `completed`; the envelope's verb follows the current event family. */
const STATUS_VERB: Record<string, string> = { complete: 'completed', failed: 'failed', expired: 'expired' };

export function envelopeType(summary: Pick<OrderSummary, 'type' | 'status'>): string {
  return `order.${summary.type}.${STATUS_VERB[summary.status] ?? summary.status}`;
}

/**
 * The envelope every sink receives for a delivery job, stamped with the time it was made:
 * `data.order` exactly as MORI served it, `data.summary` beside it (docs/interface.md, "What sinks
 * receive"). `test` is what the API key says (`sk_test_` keys see test orders only), when it says.
 */
export function buildEnvelope(
  job: Pick<DeliveryJobData, 'deliveryId' | 'order' | 'event'>,
  known: { test?: boolean } = {},
  now: Date = new Date(),
): DeliveryEnvelope {
  const summary = summarizeOrder(job.order, known);
  return {
    id: job.deliveryId,
    type: envelopeType(summary),
    timestamp: now.toISOString(),
    data: { order: job.order, summary, event: { ...job.event, source: job.event.source ?? 'webhook' } },
  };
}

/** `sk_test_…` → test orders; `sk_…` → live orders; any other token says nothing. */
export function testModeOf(token: string | undefined): boolean | undefined {
  if (token?.startsWith('sk_test_')) return true;
  if (token?.startsWith('sk_')) return false;
  return undefined;
}
