/**
 * Every Redis key this service owns outside BullMQ's own. All of them start with the configured
 * prefix, `{mori}` by default: the braces are a hash tag, so on Redis Cluster the queues, dedupe
 * keys and ledgers share one slot and multi-key scripts never raise CROSSSLOT (bullmq#459).
 */
export function rateLimitNamespace(prefix: string): string {
  return `${prefix}:rl:`;
}

/** The delivery ledger's marker: this delivery id has reached this sink. */
export function deliveredKey(prefix: string, sink: string, deliveryId: string): string {
  return `${prefix}:delivered:${sink}:${deliveryId}`;
}

/** The newest `updatedAt` (epoch ms) of an order delivered to a sink, so older states are skipped. */
export function newestDeliveredKey(prefix: string, sink: string, orderId: string): string {
  return `${prefix}:newest:${sink}:${orderId}`;
}

/** The shared MORI look-up budget's state (current rate, last decrease and increase). */
export function lookupBudgetKey(prefix: string): string {
  return `${prefix}:mori-budget`;
}
