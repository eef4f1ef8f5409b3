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
  /**
   * Appends entries to the order's history (redacted), and with `envelope` keeps the envelope last
   * delivered for it (redacted too); refreshes their expiry and the order's place in the index.
   */
  record(orderId: string, entries: readonly HistoryEntry[], envelope?: unknown): Promise<void>;
  /** Counts one duplicate of an event the intake answered. */
  countDuplicate(orderId: string, eventId: string): Promise<void>;
}

/** Deep enough for an order's files and their nested objects; what is deeper is scrubbed as text. */
const REDACT_DEPTH = 32;

/** JSON of a value with secret fields and presigned URLs censored (src/redact-secrets.ts, the one rule). */
function redactedJson(value: unknown): string {
  return scrubPresignedUrls(JSON.stringify(redactSecrets(value, REDACT_DEPTH)));
}

/**
 * Appends entries to an order's history, keeps the envelope when one is given, and keeps every key
 * bounded: one call per write, so a history costs the worker one command per look-up or attempt.
 * KEYS[1] the order's history (a list)
 * KEYS[2] the index of orders (a sorted set, scored by last entry)
 * KEYS[3] the order's last delivered envelope
 * ARGV[1] TTL (ms)   ARGV[2] entries kept per order   ARGV[3] now (epoch ms)   ARGV[4] the order id
 * ARGV[5] orders kept in the index   ARGV[6] the envelope (JSON), or '' for none
 * ARGV[7..] the entries (JSON)
 * Returns 1.
 */
const RECORD = `
if #ARGV > 6 then
  redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
if ARGV[6] ~= '' then redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[1]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[1]))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[5]) + 1))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`;

/**
 * What happened to each order, in Redis, for the timeline page and `deliveries <orderId>`. Bounded:
 * every key expires with the dedupe window (an order older than that cannot be replayed by MORI
 * either) and each list is capped. Each entry is one script call: on Redis Cluster the
 * `{hash tag}` prefix keeps its keys in one slot. Secrets and presigned URLs never enter these keys.
 */
export function createOrderHistory(redis: Redis, prefix: string, ttlMs: number): OrderHistory {
  // Sent by SHA (EVALSHA) after the first call, not re-sent as a whole script on every entry.
  if (!('moriRecordHistory' in redis)) redis.defineCommand('moriRecordHistory', { numberOfKeys: 3, lua: RECORD });
  const scripts = redis as Redis & { moriRecordHistory(...args: (string | number)[]): Promise<number> };
  const index = historyIndexKey(prefix);
  return {
    async record(orderId, entries, envelope) {
      await scripts.moriRecordHistory(
        historyKey(prefix, orderId),
        index,
        historyEnvelopeKey(prefix, orderId),
        ttlMs,
        ENTRIES_PER_ORDER,
        Date.now(),
        orderId,
        INDEXED_ORDERS,
        envelope === undefined ? '' : redactedJson(envelope),
        ...entries.map(redactedJson),
      );
    },
    async countDuplicate(orderId, eventId) {
      const key = historyDuplicatesKey(prefix, orderId);
      await redis.multi().hincrby(key, eventId, 1).pexpire(key, ttlMs).exec();
    },
  };
}
