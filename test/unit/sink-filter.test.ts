import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../src/sinks/sink-filter.js';

describe('matchesFilter', () => {
  it('passes everything without a filter', () => {
    expect(matchesFilter(undefined, { type: 'antiAi', status: 'complete' })).toBe(true);
    expect(matchesFilter({}, { type: 'antiAi', status: 'complete' })).toBe(true);
  });
  it('checks order types and statuses together', () => {
    const filter = { orderTypes: ['aiDetection' as const], statuses: ['complete' as const] };
    expect(matchesFilter(filter, { type: 'aiDetection', status: 'complete' })).toBe(true);
    expect(matchesFilter(filter, { type: 'aiDetection', status: 'failed' })).toBe(false);
    expect(matchesFilter(filter, { type: 'antiAi', status: 'complete' })).toBe(false);
  });
});
