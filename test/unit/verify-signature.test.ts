import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/signature-vectors.json' with { type: 'json' };
import { verifySignature } from '../../src/webhook/verify-signature.js';

describe('verifySignature', () => {
  it.each(vectors)('matches the known-answer vector: $description', ({ secret, body, signature }) => {
    expect(verifySignature(Buffer.from(body), { 'x-moribiz-signature': signature }, [secret])).toEqual({
      ok: true,
      header: 'x-moribiz-signature',
    });
    expect(verifySignature(Buffer.from(body), { 'x-mori-signature': signature }, [secret])).toEqual({
      ok: true,
      header: 'x-mori-signature',
    });
  });

  const [v] = vectors;
  const body = Buffer.from(v!.body);

  it('keys the HMAC with the whole secret, whsec_ prefix included', () => {
    const withoutPrefix = v!.secret.slice('whsec_'.length);
    expect(verifySignature(body, { 'x-moribiz-signature': v!.signature }, [withoutPrefix])).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('tries every configured secret (rotation)', () => {
    expect(verifySignature(body, { 'x-moribiz-signature': v!.signature }, ['whsec_old_one_xxxx', v!.secret]).ok).toBe(
      true,
    );
  });

  it('accepts upper-case hex', () => {
    expect(verifySignature(body, { 'x-moribiz-signature': v!.signature.toUpperCase() }, [v!.secret]).ok).toBe(true);
  });

  it.each([
    ['no header', {}, 'missing'],
    ['an empty header', { 'x-moribiz-signature': '' }, 'missing'],
    ['a truncated signature', { 'x-moribiz-signature': v!.signature.slice(0, 63) }, 'malformed'],
    ['a signature with a prefix', { 'x-moribiz-signature': `sha256=${v!.signature}` }, 'malformed'],
    ['non-hex characters', { 'x-moribiz-signature': 'g'.repeat(64) }, 'malformed'],
    [
      'one flipped digit',
      { 'x-moribiz-signature': `${v!.signature.slice(0, -1)}${v!.signature.endsWith('0') ? '1' : '0'}` },
      'mismatch',
    ],
  ] as const)('refuses %s', (_what, headers, reason) => {
    expect(verifySignature(body, headers, [v!.secret])).toEqual({ ok: false, reason });
  });

  it('refuses a body changed by one byte', () => {
    const changed = Buffer.from(v!.body.replace('1234567890123456789', '1234567890123456780'));
    expect(verifySignature(changed, { 'x-moribiz-signature': v!.signature }, [v!.secret]).ok).toBe(false);
  });

  it('accepts when either header carries a valid signature', () => {
    expect(
      verifySignature(body, { 'x-moribiz-signature': 'f'.repeat(64), 'x-mori-signature': v!.signature }, [v!.secret]),
    ).toEqual({
      ok: true,
      header: 'x-mori-signature',
    });
  });
});
