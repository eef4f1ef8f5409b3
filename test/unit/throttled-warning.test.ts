import { afterEach, describe, expect, it, vi } from 'vitest';
import { throttledWarning } from '../../src/throttled-warning.js';

afterEach(() => vi.useRealTimers());

describe('throttledWarning', () => {
  it('logs the first error of an interval at once and the rest as one line with a count', () => {
    vi.useFakeTimers();
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const warn = throttledWarning(
      { warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) },
      { redis: 'producer' },
      'Redis connection error',
      10_000,
    );
    warn(new Error('MOVED 3739 127.0.0.1:7001'));
    for (let i = 0; i < 2999; i++) warn(new Error('MOVED 3739 127.0.0.1:7002'));
    expect(lines).toEqual([
      { fields: { redis: 'producer', err: 'MOVED 3739 127.0.0.1:7001' }, message: 'Redis connection error' },
    ]);

    vi.advanceTimersByTime(10_000);
    expect(lines[1]).toEqual({
      fields: { redis: 'producer', err: 'MOVED 3739 127.0.0.1:7002', repeated: 2999, intervalMs: 10_000 },
      message: 'Redis connection error (repeated)',
    });

    // A quiet interval adds nothing; the next error is logged at once again.
    vi.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(2);
    warn('READONLY');
    expect(lines[2]).toEqual({ fields: { redis: 'producer', err: 'READONLY' }, message: 'Redis connection error' });
  });
});
