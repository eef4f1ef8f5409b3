import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { thrownBy } from '../helpers/rejection-of.js';

const problems = (env: Record<string, string>) => [...thrownBy(() => loadConfig(env), ConfigError).problems];

/** Issue 10: one invalid value (PORT=abc) hid the others: an invalid SINKS and a missing secret. */
describe('issue 10: configuration names every problem at once', () => {
  it('an invalid PORT, an invalid SINKS and a missing secret are all named', () => {
    const p = problems({ PORT: 'abc', SINKS: '[{"type":"file","name":"x"}]', MORI_API_TOKEN: 't' });
    expect(p.map((x) => x.split(':')[0])).toEqual(['PORT', 'SINKS.0.path', 'MORI_WEBHOOK_SECRET']);
  });

  it('an invalid variable is named once, not also as missing', () => {
    expect(problems({ MORI_WEBHOOK_SECRET: 'short', MORI_API_TOKEN: 't' })).toEqual([
      'MORI_WEBHOOK_SECRET.0: each secret must be at least 8 characters',
    ]);
  });

  it('an invalid ROLE is named alone, since which requirements apply is unknown', () => {
    expect(problems({ ROLE: 'both' }).map((x) => x.split(':')[0])).toEqual(['ROLE']);
  });
});
