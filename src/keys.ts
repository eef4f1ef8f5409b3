/**
 * Every Redis key this service owns outside BullMQ's own. All of them start with the configured
 * prefix, `{mori}` by default: the braces are a hash tag, so on Redis Cluster the queues, dedupe
 * keys and ledgers share one slot and multi-key scripts never raise CROSSSLOT (bullmq#459).
 */
export function rateLimitNamespace(prefix: string): string {
  return `${prefix}:rl:`;
}
