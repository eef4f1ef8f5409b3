import type { Config } from '../config.js';
import { fullJitter } from '../outbound/backoff.js';
import { MORI_BACKOFF, SINK_BACKOFF } from '../queues.js';

type DelayConfig = Pick<
  Config,
  'MORI_RETRY_BASE_MS' | 'MORI_RETRY_MAX_DELAY_MS' | 'SINK_RETRY_BASE_MS' | 'SINK_RETRY_MAX_DELAY_MS'
>;

/**
 * BullMQ's custom backoff strategy for both queues: exponential with full jitter (MORI's advice,
 * docs/mori-api.md), capped per delay, and never shorter than a Retry-After the other side sent.
 */
export function createRetryDelay(config: DelayConfig, random: () => number = Math.random) {
  return (attemptsMade: number, type?: string, err?: Error): number => {
    const retryAfterMs = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const floor = typeof retryAfterMs === 'number' ? retryAfterMs : 0;
    const attempt = Math.max(0, attemptsMade - 1);
    if (type === MORI_BACKOFF)
      return Math.max(floor, fullJitter(attempt, config.MORI_RETRY_BASE_MS, config.MORI_RETRY_MAX_DELAY_MS, random));
    if (type === SINK_BACKOFF)
      return Math.max(floor, fullJitter(attempt, config.SINK_RETRY_BASE_MS, config.SINK_RETRY_MAX_DELAY_MS, random));
    throw new Error(`unknown backoff type ${String(type)}`);
  };
}
