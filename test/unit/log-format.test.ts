import { describe, expect, it } from 'vitest';
import { usePrettyLogs } from '../../src/logger.js';

describe('LOG_FORMAT', () => {
  it('auto: pretty on a terminal outside production, JSON in a pipe or with NODE_ENV=production', () => {
    expect(usePrettyLogs('auto', true, undefined)).toBe(true);
    expect(usePrettyLogs('auto', true, 'development')).toBe(true);
    expect(usePrettyLogs('auto', true, 'production')).toBe(false);
    expect(usePrettyLogs('auto', false, undefined)).toBe(false);
  });

  it('pretty and json choose, whatever the stream', () => {
    expect(usePrettyLogs('pretty', false, 'production')).toBe(true);
    expect(usePrettyLogs('json', true, undefined)).toBe(false);
  });
});
