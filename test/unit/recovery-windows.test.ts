import { describe, expect, it } from 'vitest';
import { recoveryWindows } from '../../src/cli/recover.js';

const at = (iso: string) => Date.parse(iso);

describe('recoveryWindows', () => {
  it('starts a day early and covers the range in windows at most 7 calendar days apart', () => {
    expect(recoveryWindows(at('2026-11-10T15:00:00Z'), at('2026-11-30T08:00:00Z'))).toEqual([
      { fromDate: '2026-11-09', toDate: '2026-11-15' },
      { fromDate: '2026-11-16', toDate: '2026-11-22' },
      { fromDate: '2026-11-23', toDate: '2026-11-29' },
      { fromDate: '2026-11-30', toDate: '2026-11-30' },
    ]);
  });

  it('a range inside one day is two days (the day before for a zone ahead of UTC)', () => {
    expect(recoveryWindows(at('2026-12-01T10:00:00Z'), at('2026-12-01T11:00:00Z'))).toEqual([
      { fromDate: '2026-11-30', toDate: '2026-12-01' },
    ]);
  });

  it('never makes a window more than 7 days apart', () => {
    for (const w of recoveryWindows(at('2026-01-01T00:00:00Z'), at('2026-12-31T00:00:00Z'))) {
      expect(Date.parse(w.toDate) - Date.parse(w.fromDate)).toBeLessThanOrEqual(7 * 86_400_000);
    }
  });
});
