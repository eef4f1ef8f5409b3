import type { Redis } from '../redis.js';

/** MORI's per-minute request limits by plan (docs/mori-api.md, "Auth and rate limits"). */
export const PLAN_LIMITS_PER_MINUTE = { free: 60, pro: 300, enterprise: 1000 } as const;
export type MoriPlan = keyof typeof PLAN_LIMITS_PER_MINUTE;

/** Our share of the plan, in calls per window: never zero, so a tiny share still makes progress. */
export function budgetCeiling(limitPerWindow: number, share: number): number {
  return Math.max(1, Math.floor(limitPerWindow * share));
}

/** The shortest slice of the window the limiter counts in; shorter would cost a Redis check per job. */
const MIN_SLICE_MS = 100;

/**
 * Calls per window → BullMQ's global limiter as `max` calls per `durationMs`, a slice of at least
 * 100 ms: a steady drip instead of `rate` calls at the start of each window. MORI does not
 * document its window's shape, and with a sliding window a burst at the end of one window and
 * another at the start of the next would spend twice our share in seconds (docs/decisions.md,
 * "The look-up budget"). Free at half the plan: 1 call per 2 s; Enterprise at all of it: 2 per 120 ms.
 */
export function limiterFor(rate: number, windowMs: number): { max: number; durationMs: number } {
  const interval = windowMs / rate;
  const max = Math.max(1, Math.ceil(MIN_SLICE_MS / interval));
  return { max, durationMs: Math.max(1, Math.round(max * interval)) };
}

/**
 * KEYS[1] the budget hash; ARGV: [1] now (ms), [2] ceiling, [3] floor, [4] 'decrease' | 'increase' | 'read',
 * [5] hold (ms): no increase within this long of a decrease, no second decrease within it either,
 * [6] step: calls per window added by one increase.
 * Returns the rate in force after the call. One script, so concurrent workers that all see a 429
 * halve the rate once, and only one of them raises it again per hold.
 */
const ADJUST_SCRIPT = `
local now, ceiling, floor, op, hold, step = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local rate = tonumber(redis.call('HGET', KEYS[1], 'rate') or ceiling)
if rate > ceiling then rate = ceiling end
local changed = tonumber(redis.call('HGET', KEYS[1], 'changedAt') or 0)
if op == 'decrease' and now - changed >= hold then
  rate = math.max(floor, math.floor(rate / 2))
  redis.call('HSET', KEYS[1], 'rate', rate, 'changedAt', now)
elseif op == 'increase' and rate < ceiling and now - changed >= hold then
  rate = math.min(ceiling, rate + step)
  redis.call('HSET', KEYS[1], 'rate', rate, 'changedAt', now)
elseif redis.call('HEXISTS', KEYS[1], 'rate') == 0 or tonumber(redis.call('HGET', KEYS[1], 'rate')) ~= rate then
  redis.call('HSET', KEYS[1], 'rate', rate)
end
return rate
`;

export interface LookupBudgetOptions {
  redis: Redis;
  key: string;
  /** Calls per window we may spend: the plan's limit times our share. */
  ceiling: number;
  windowMs: number;
  /** Applies a rate to every worker (BullMQ's global rate limit on the events queue). */
  apply: (limiter: { max: number; durationMs: number }) => Promise<void>;
}

export interface LookupBudget {
  /** Reads (or starts) the shared rate and applies it; returns it. */
  start(): Promise<number>;
  /** MORI answered RATE_LIMIT_EXCEEDED: halve the rate for every worker (once per hold). */
  onRateLimited(): Promise<number>;
  /** Called on a timer: add a tenth of the ceiling back, once per hold without a 429. */
  recover(): Promise<number>;
}

/**
 * The account's look-up budget, shared in Redis by every worker: additive increase, multiplicative
 * decrease (as TCP congestion control does), so after a 429 all workers slow down together and come
 * back gradually. The hold is one window: MORI's limit is per minute, so a rate raised sooner would
 * be judged against the same window that just refused us.
 */
export function createLookupBudget(opts: LookupBudgetOptions): LookupBudget {
  const floor = Math.max(1, Math.floor(opts.ceiling / 10));
  const step = Math.max(1, Math.ceil(opts.ceiling / 10));
  // Sent by SHA (EVALSHA) after the first call, not re-sent as a whole script on every adjustment.
  const { redis } = opts;
  if (!('moriAdjustBudget' in redis)) redis.defineCommand('moriAdjustBudget', { numberOfKeys: 1, lua: ADJUST_SCRIPT });
  const scripts = redis as Redis & { moriAdjustBudget(...args: (string | number)[]): Promise<number> };
  const adjust = async (op: 'decrease' | 'increase' | 'read'): Promise<number> => {
    const rate = Number(
      await scripts.moriAdjustBudget(opts.key, Date.now(), opts.ceiling, floor, op, opts.windowMs, step),
    );
    const limiter = limiterFor(rate, opts.windowMs);
    await opts.apply(limiter);
    return rate;
  };
  return {
    start: () => adjust('read'),
    onRateLimited: () => adjust('decrease'),
    recover: () => adjust('increase'),
  };
}
