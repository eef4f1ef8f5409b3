import { describe, expect, it } from 'vitest';
import { sinkConfigSchema } from '../../src/sinks/sink-config.js';

/**
 * Issue 10: `https://user:pass@host/...` was accepted but the credentials were never sent, so the
 * sink failed for its whole 72-hour budget. Now start-up refuses it and says where they go.
 */
describe('issue 10: credentials in an http sink URL', () => {
  it('are refused, pointing to headers, and never echoed', () => {
    const parsed = sinkConfigSchema.safeParse({
      type: 'http',
      name: 'crm',
      url: 'https://alice:s3cret@crm.example.com/hooks',
    });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['url']);
    const message = parsed.error?.issues[0]?.message ?? '';
    expect(message).toContain('headers');
    expect(message).not.toContain('s3cret');
  });

  it('a URL without them, and Basic auth in headers, are accepted', () => {
    expect(
      sinkConfigSchema.safeParse({
        type: 'http',
        name: 'crm',
        url: 'https://crm.example.com/hooks',
        headers: { authorization: 'Basic YWxpY2U6czNjcmV0' },
      }).success,
    ).toBe(true);
  });
});
