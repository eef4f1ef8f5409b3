import { createHash } from 'node:crypto';
import type { DeliveryJobData } from '../queues.js';
import type { DeliveryEnvelope } from '../sinks/sink.js';

/**
 * The delivery id of an order state: the same for the same (order id, status, updatedAt), whichever
 * event announced it, on every retry and for every sink (CONTRACT.md B). 128 bits of SHA-256 are
 * plenty to keep distinct states apart; the prefix keeps it from ever looking like an integer.
 */
export function deliveryIdFor(orderId: string, status: string, updatedAt: string): string {
  const digest = createHash('sha256').update(`${orderId}\n${status}\n${updatedAt}`).digest('hex');
  return `dlv_${digest.slice(0, 32)}`;
}

/** `complete` → `completed`; the envelope's verb follows the current event family. */
const STATUS_VERB: Record<string, string> = { complete: 'completed', failed: 'failed', expired: 'expired' };

export function envelopeType(orderType: unknown, status: unknown): string {
  const type = typeof orderType === 'string' ? orderType : 'unknown';
  const verb = typeof status === 'string' ? (STATUS_VERB[status] ?? status) : 'unknown';
  return `order.${type}.${verb}`;
}

/** The envelope every sink receives for a delivery job, stamped with the time it was made. */
export function buildEnvelope(job: Pick<DeliveryJobData, 'deliveryId' | 'order' | 'event'>, now: Date = new Date()): DeliveryEnvelope {
  return {
    id: job.deliveryId,
    type: envelopeType(job.order.type, job.order.status),
    timestamp: now.toISOString(),
    data: { order: job.order, event: job.event },
  };
}
