import { historyDuplicatesKey, historyEnvelopeKey, historyIndexKey, historyKey } from '../keys.js';
import type { EventGeneration } from '../orders/order-status.js';
import { redactSecrets, scrubPresignedUrls } from '../redact-secrets.js';
import type { Redis } from '../redis.js';

/** An event the worker took from the queue: what the intake received, at the time it received it. */
interface ReceivedEntry {
  kind: 'received';
  at: string;
  eventId: string;
  eventType: string;
  generation: EventGeneration;
  /** The events-queue job, for a link to it on the dashboard. */
  jobId: string;
}

/** One look-up at MORI: `final` and `not-final` say what the order's status meant for the pipeline. */
interface LookupEntry {
  kind: 'lookup';
  at: string;
  apiVersion: string;
  /** lookup, recheck, retry, or refresh (a delivery re-reading an aged snapshot). */
  purpose: string;
  outcome: 'final' | 'not-final' | 'rate-limited' | 'error';
  status?: string;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

/** One delivery attempt of one order state to one sink. */
export interface AttemptEntry {
  kind: 'attempt';
  at: string;
  sink: string;
  deliveryId: string;
  jobId: string;
  /** 1 for the first attempt of this job. */
  attempt: number;
  outcome: 'delivered' | 'skipped' | 'failed' | 'dead-lettered';
  /** Why a delivery was skipped: the ledger holds this state (`delivered`) or a newer one (`stale`). */
  reason?: string;
  httpStatus?: number;
  error?: string;
  durationMs: number;
  nextRetryAt?: string;
}

export type HistoryEntry = ReceivedEntry | LookupEntry | AttemptEntry;

/**
 * Entries kept per order. An order sees a handful of events and, per sink, attempts until the
 * retry budget runs out: SINK_RETRY_BUDGET_MS's 24 h at the 10 min delay cap is ~150 attempts
 * (docs/interface.md, "Retry budgets"); 500 keeps them all for two sinks and still bounds a flood.
 */
const ENTRIES_PER_ORDER = 500;
/** Orders the index remembers; the index page shows the newest few, a search finds any by id. */
const INDEXED_ORDERS = 10_000;

export interface OrderHistory {
  /** Appends one entry to the order's history (redacted); refreshes its expiry and its place in the index. */
  record(orderId: string, entry: HistoryEntry): Promise<void>;
  /** Counts one duplicate of an event the intake answered. */
  countDuplicate(orderId: string, eventId: string): Promise<void>;
  /** Keeps the envelope last delivered for the order, with secrets and presigned URLs redacted. */
  keepEnvelope(orderId: string, envelope: unknown): Promise<void>;
}

/** Deep enough for an order's files and their nested objects; what is deeper is scrubbed as text. */
const REDACT_DEPTH = 32;

/** JSON of a value with secret fields and presigned URLs censored (src/redact-secrets.ts, the one rule). */
function redactedJson(value: unknown): string {
  return scrubPresignedUrls(JSON.stringify(redactSecrets(value, REDACT_DEPTH)));
}

/**
 * What happened to each order, in Redis, for the timeline page and `deliveries <orderId>`. Bounded:
 * every key expires with the dedupe window (an order older than that cannot be replayed by MORI
 * either) and each list is capped. Each write is one MULTI: on Redis Cluster the `{hash tag}`
 * prefix keeps the keys in one slot. Secrets and presigned URLs never enter these keys.
 */
export function createOrderHistory(redis: Redis, prefix: string, ttlMs: number): OrderHistory {
  const index = historyIndexKey(prefix);
  const touchIndex = (multi: ReturnType<Redis['multi']>, orderId: string, now: number) =>
    multi
      .zadd(index, now, orderId)
      .zremrangebyscore(index, '-inf', now - ttlMs)
      .zremrangebyrank(index, 0, -(INDEXED_ORDERS + 1))
      .pexpire(index, ttlMs);
  return {
    async record(orderId, entry) {
      const key = historyKey(prefix, orderId);
      const now = Date.now();
      const multi = redis
        .multi()
        .rpush(key, redactedJson(entry))
        .ltrim(key, -ENTRIES_PER_ORDER, -1)
        .pexpire(key, ttlMs);
      await touchIndex(multi, orderId, now).exec();
    },
    async countDuplicate(orderId, eventId) {
      const key = historyDuplicatesKey(prefix, orderId);
      await redis.multi().hincrby(key, eventId, 1).pexpire(key, ttlMs).exec();
    },
    async keepEnvelope(orderId, envelope) {
      await redis.set(historyEnvelopeKey(prefix, orderId), redactedJson(envelope), 'PX', ttlMs);
    },
  };
}
