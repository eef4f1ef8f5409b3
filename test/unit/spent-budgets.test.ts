import { describe, expect, it } from 'vitest';
import { createSpentBudgets } from '../../src/http/spent-budgets.js';

describe('spent budgets', () => {
  it('knows a client only between spending and the end of its window', () => {
    const spent = createSpentBudgets();
    expect(spent.retryAfterS('10.0.0.1', 1000)).toBeUndefined();
    expect(spent.spend('10.0.0.1', 1000, 30_000)).toBe(true);
    expect(spent.retryAfterS('10.0.0.1', 1000)).toBe(30);
    expect(spent.retryAfterS('10.0.0.1', 20_500)).toBe(11);
    expect(spent.retryAfterS('10.0.0.2', 20_500)).toBeUndefined();
    expect(spent.retryAfterS('10.0.0.1', 31_000)).toBeUndefined();
  });

  it('says "first" once per window, so the warning is logged once per client and window', () => {
    const spent = createSpentBudgets();
    expect(spent.spend('c', 0, 1000)).toBe(true);
    expect(spent.spend('c', 500, 500)).toBe(false);
    expect(spent.spend('c', 1500, 1000)).toBe(true);
  });

  it('stays bounded whatever the number of clients', () => {
    const spent = createSpentBudgets();
    for (let i = 0; i < 25_000; i++) spent.spend(`client-${i}`, 0, 60_000);
    expect(spent.retryAfterS('client-24999', 1)).toBe(60);
    expect(spent.retryAfterS('client-0', 1)).toBeUndefined();
  });
});
