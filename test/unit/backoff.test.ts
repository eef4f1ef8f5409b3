import { describe, expect, it } from 'vitest';
import { fullJitter, parseRetryAfter } from '../../src/outbound/backoff.js';
import { MORI_BACKOFF, SINK_BACKOFF } from '../../src/queues.js';
import { createRetryDelay } from '../../src/worker/retry-delay.js';

describe('fullJitter', () => {
  it('spans [0, base·2^attempt) and stops growing at the cap', () => {
    expect(fullJitter(0, 100, 10_000, () => 0.999)).toBe(99);
    expect(fullJitter(3, 100, 10_000, () => 0.999)).toBe(799);
    expect(fullJitter(30, 100, 10_000, () => 0.999)).toBe(9990);
    expect(fullJitter(5, 100, 10_000, () => 0)).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it('reads seconds and HTTP dates, clamped to [0, cap]', () => {
    expect(parseRetryAfter('7', now, 60_000)).toBe(7000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:00:30 GMT', now, 60_000)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', now, 60_000)).toBe(0);
    expect(parseRetryAfter('86400', now, 60_000)).toBe(60_000);
    expect(parseRetryAfter(['3', '9'], now, 60_000)).toBe(3000);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now, 1000)).toBeUndefined();
    expect(parseRetryAfter('soon', now, 1000)).toBeUndefined();
    expect(parseRetryAfter('-5', now, 1000)).toBeUndefined();
  });
});

describe('createRetryDelay (BullMQ backoff strategy)', () => {
  const delay = createRetryDelay(
    {
      MORI_RETRY_BASE_MS: 1000,
      MORI_RETRY_MAX_DELAY_MS: 60_000,
      SINK_RETRY_BASE_MS: 5000,
      SINK_RETRY_MAX_DELAY_MS: 3_600_000,
    },
    () => 0.5,
  );
  it('grows exponentially per queue type, with jitter', () => {
    expect(delay(1, MORI_BACKOFF)).toBe(500);
    expect(delay(4, MORI_BACKOFF)).toBe(4000);
    expect(delay(20, MORI_BACKOFF)).toBe(30_000);
    expect(delay(1, SINK_BACKOFF)).toBe(2500);
  });
  it('never waits less than a Retry-After the other side sent', () => {
    expect(delay(1, SINK_BACKOFF, Object.assign(new Error('x'), { retryAfterMs: 90_000 }))).toBe(90_000);
  });
  it('refuses an unknown type', () => {
    expect(() => delay(1, 'exponential')).toThrow(/unknown backoff type/);
  });
});
