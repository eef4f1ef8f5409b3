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

/**
 * Marks an order state (its delivery id) as handled: the fetch job queued its deliveries. The
 * reconciler looks for these before it spends a look-up on an order it finds in MORI's list.
 */
export function stateSeenKey(prefix: string, deliveryId: string): string {
  return `${prefix}:seen:${deliveryId}`;
}

/** When the last reconciler sweep succeeded (epoch ms). */
export function reconcileLastSuccessKey(prefix: string): string {
  return `${prefix}:reconcile:last-success`;
}

/** The shared MORI look-up budget's state (current rate, last decrease and increase). */
export function lookupBudgetKey(prefix: string): string {
  return `${prefix}:mori-budget`;
}

/** Written by every readiness probe: ready means the master of our keys takes writes. */
export function readyProbeKey(prefix: string): string {
  return `${prefix}:ready-probe`;
}

/** An order's history: its events, MORI look-ups and delivery attempts, one JSON entry each (a list). */
export function historyKey(prefix: string, orderId: string): string {
  return `${prefix}:history:${orderId}`;
}

/** How many duplicates of each of an order's events the intake answered (a hash: eventId → count). */
export function historyDuplicatesKey(prefix: string, orderId: string): string {
  return `${prefix}:history:${orderId}:duplicates`;
}

/** The envelope last delivered for an order, redacted (what the timeline shows). */
export function historyEnvelopeKey(prefix: string, orderId: string): string {
  return `${prefix}:history:${orderId}:envelope`;
}

/** The orders with a history, scored by their last entry (epoch ms): the timeline's index page. */
export function historyIndexKey(prefix: string): string {
  return `${prefix}:history-index`;
}

/**
 * The intake: a stream of the events the webhook accepted, each entry one event's job data, until
 * a worker turns it into a job on the events queue (src/worker/promote-intake.ts).
 */
export function intakeKey(prefix: string): string {
  return `${prefix}:intake`;
}

/** The intake's dedupe mark: this eventId was received, kept for DEDUPE_WINDOW_SECONDS. */
export function receivedKey(prefix: string, eventId: string): string {
  return `${prefix}:received:${eventId}`;
}
