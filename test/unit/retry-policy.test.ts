import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { limiterFor } from '../../src/mori/lookup-budget.js';
import { spendRetryBudget } from '../../src/worker/retry-policy.js';
import { TIMED_OUT, withinDeadline } from '../../src/within-deadline.js';

describe('spendRetryBudget', () => {
  it('starts the budget at the first failure and keeps its start after', () => {
    expect(spendRetryBudget(undefined, 1000, () => 'x', 5000)).toBe(5000);
    expect(spendRetryBudget(5000, 1000, () => 'x', 5900)).toBe(5000);
  });

  it('gives up past the budget with an UnrecoverableError saying how long it tried', () => {
    expect(() => spendRetryBudget(5000, 1000, (s) => `gave up after ${s} s`, 7000)).toThrow(
      new UnrecoverableError('gave up after 2 s'),
    );
  });
});

describe('withinDeadline', () => {
  it('passes the outcome through when the work is in time', async () => {
    await expect(withinDeadline(Promise.resolve(42), 1000)).resolves.toBe(42);
    await expect(withinDeadline(Promise.reject(new Error('no')), 1000)).rejects.toThrow('no');
  });

  it('answers TIMED_OUT when the deadline comes first, and a late rejection stays handled', async () => {
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30));
    // Left unhandled, the rejection 30 ms later would fail the whole run (vitest reports it).
    await expect(withinDeadline(late, 5)).resolves.toBe(TIMED_OUT);
  });
});

describe('limiterFor', () => {
  it.each([
    [30, 60_000, { max: 1, durationMs: 2000 }],
    [1000, 60_000, { max: 2, durationMs: 120 }],
    [1_000_000, 60_000, { max: 1667, durationMs: 100 }],
  ])('%i calls per %i ms → %j, within 0.1 %% of the budget', (rate, windowMs, expected) => {
    const limiter = limiterFor(rate, windowMs);
    expect(limiter).toEqual(expected);
    expect((limiter.max * windowMs) / limiter.durationMs).toBeLessThanOrEqual(rate * 1.001);
  });
});
