import { deliveredKey, newestDeliveredKey } from '../keys.js';
import type { Redis } from '../redis.js';
import { waitForReplicas, type ReplicaWait } from '../wait-for-replicas.js';

/**
 * How long a delivery is remembered: longer than the 7-day event dedupe window plus the longest
 * retry budget, so no event MORI or an operator can still replay is delivered twice.
 */
const LEDGER_TTL_MS = 30 * 24 * 3600 * 1000;

type LedgerVerdict = 'new' | 'delivered' | 'stale';

/**
 * Marks a delivery done and raises the order's high-water mark for the sink, atomically.
 * KEYS[1] delivered marker of (sink, delivery id)
 * KEYS[2] newest updatedAt (epoch ms) delivered to the sink for this order
 * ARGV[1] this delivery's updatedAt (epoch ms)
 * ARGV[2] TTL of both keys (ms)
 * ARGV[3] delivery time (epoch ms), stored as the marker's value for inspection
 * Returns 1.
 */
const MARK_DELIVERED = `
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
local newest = tonumber(redis.call('GET', KEYS[2]))
if newest == nil or newest < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
end
return 1
`;

export interface DeliveryLedger {
  /** `delivered`: this state already reached the sink; `stale`: a newer state of the order already did. */
  check(sink: string, deliveryId: string, orderId: string, updatedAtMs: number): Promise<LedgerVerdict>;
  markDelivered(sink: string, deliveryId: string, orderId: string, updatedAtMs: number): Promise<void>;
}

/**
 * The per-sink record that makes "each order state reaches each sink once" hold across events,
 * retries and workers. Keys share the queues' `{hash tag}` prefix, so the script is Cluster-safe.
 */
export function createDeliveryLedger(
  redis: Redis,
  prefix: string,
  /**
   * A mark lost in a failover means a second delivery: with REDIS_WAIT_REPLICAS the mark waits for
   * replicas too. The delivery has happened either way, so a shortfall is reported, not retried.
   */
  replicaWait?: ReplicaWait & { onShortfall(message: string): void },
): DeliveryLedger {
  // Sent by SHA (EVALSHA) after the first call, not re-sent as a whole script on every delivery.
  if (!('moriMarkDelivered' in redis))
    redis.defineCommand('moriMarkDelivered', { numberOfKeys: 2, lua: MARK_DELIVERED });
  const scripts = redis as Redis & { moriMarkDelivered(...args: (string | number)[]): Promise<number> };
  return {
    async check(sink, deliveryId, orderId, updatedAtMs) {
      const [delivered, newest] = await redis.mget(
        deliveredKey(prefix, sink, deliveryId),
        newestDeliveredKey(prefix, sink, orderId),
      );
      if (delivered !== null) return 'delivered';
      if (newest !== null && Number(newest) > updatedAtMs) return 'stale';
      return 'new';
    },
    async markDelivered(sink, deliveryId, orderId, updatedAtMs) {
      await scripts.moriMarkDelivered(
        deliveredKey(prefix, sink, deliveryId),
        newestDeliveredKey(prefix, sink, orderId),
        updatedAtMs,
        LEDGER_TTL_MS,
        Date.now(),
      );
      if (replicaWait && replicaWait.replicas > 0) {
        const key = deliveredKey(prefix, sink, deliveryId);
        const confirmed = await waitForReplicas(redis, key, replicaWait).catch(() => 0);
        if (confirmed < replicaWait.replicas)
          replicaWait.onShortfall(
            `${confirmed} of ${replicaWait.replicas} replicas confirmed within ${replicaWait.timeoutMs} ms`,
          );
      }
    },
  };
}
