import { deliveredKey, historyDuplicatesKey, historyEnvelopeKey, historyIndexKey, historyKey } from '../keys.js';
import type { Redis } from '../redis.js';
import type { AttemptEntry, HistoryEntry } from './order-history.js';

/** Whether the delivery ledger holds one order state as delivered to one sink. */
interface LedgerState {
  sink: string;
  deliveryId: string;
  /** When the ledger marked it delivered; undefined while it does not hold it. */
  deliveredAt: string | undefined;
}

export interface OrderTimeline {
  orderId: string;
  /** Oldest first (the page and the CLI show the newest last). */
  entries: HistoryEntry[];
  /** Duplicates the intake answered, per eventId. */
  duplicates: Record<string, number>;
  /** The envelope last delivered, already redacted; undefined before any delivery. */
  envelope: Record<string, unknown> | undefined;
  ledger: LedgerState[];
}

function parseEntry(text: string): HistoryEntry | undefined {
  try {
    return JSON.parse(text) as HistoryEntry;
  } catch {
    return undefined;
  }
}

/**
 * An order's timeline, or undefined when nothing is known of it (never received, or older than the
 * dedupe window). Reads only: nothing here writes to Redis. The ledger's own keys are read for its
 * state, so the page shows what the ledger holds, not what an attempt once reported.
 */
export async function readOrderHistory(
  redis: Redis,
  prefix: string,
  orderId: string,
): Promise<OrderTimeline | undefined> {
  const [list, dups, envelope] = await Promise.all([
    redis.lrange(historyKey(prefix, orderId), 0, -1),
    redis.hgetall(historyDuplicatesKey(prefix, orderId)),
    redis.get(historyEnvelopeKey(prefix, orderId)),
  ]);
  if (list.length === 0 && Object.keys(dups).length === 0 && envelope === null) return undefined;
  const seen = new Set<string>();
  const entries = list
    .map(parseEntry)
    .filter((e): e is HistoryEntry => e !== undefined)
    // A worker that crashed mid-job takes the event again: one received entry per event.
    .filter((e) => e.kind !== 'received' || (!seen.has(e.eventId) && seen.add(e.eventId)))
    .map((e, i) => ({ e, i }))
    .sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.i - b.i)
    .map(({ e }) => e);
  const pairs = [
    ...new Map(
      entries
        .filter((e): e is AttemptEntry => e.kind === 'attempt')
        .map((e) => [`${e.sink}\n${e.deliveryId}`, { sink: e.sink, deliveryId: e.deliveryId }]),
    ).values(),
  ];
  const marks = pairs.length > 0 ? await redis.mget(pairs.map((p) => deliveredKey(prefix, p.sink, p.deliveryId))) : [];
  return {
    orderId,
    entries,
    duplicates: Object.fromEntries(Object.entries(dups).map(([k, v]) => [k, Number(v)])),
    envelope: envelope === null ? undefined : (JSON.parse(envelope) as Record<string, unknown>),
    ledger: pairs.map((p, i) => {
      const mark = marks[i];
      return { ...p, deliveredAt: mark ? new Date(Number(mark)).toISOString() : undefined };
    }),
  };
}

export interface RecentOrder {
  orderId: string;
  lastSeenAt: string;
  /** From the envelope last delivered, when there is one. */
  name: string | undefined;
  status: string | undefined;
}

/** The orders with the newest history, newest first. */
export async function recentOrders(redis: Redis, prefix: string, limit: number): Promise<RecentOrder[]> {
  const flat = await redis.zrevrange(historyIndexKey(prefix), 0, limit - 1, 'WITHSCORES');
  const rows: { orderId: string; score: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) rows.push({ orderId: flat[i]!, score: Number(flat[i + 1]) });
  const envelopes = rows.length > 0 ? await redis.mget(rows.map((r) => historyEnvelopeKey(prefix, r.orderId))) : [];
  return rows.map((r, i) => {
    const summary = summaryOf(envelopes[i] ?? null);
    return {
      orderId: r.orderId,
      lastSeenAt: new Date(r.score).toISOString(),
      name: summary?.name,
      status: summary?.status,
    };
  });
}

function summaryOf(envelope: string | null): { name?: string; status?: string } | undefined {
  if (envelope === null) return undefined;
  try {
    const data = (
      JSON.parse(envelope) as { data?: { order?: Record<string, unknown>; summary?: Record<string, unknown> } }
    ).data;
    const name = data?.order?.orderName;
    const status = data?.summary?.status;
    return {
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof status === 'string' ? { status } : {}),
    };
  } catch {
    return undefined;
  }
}
