import { createHmac, timingSafeEqual } from 'node:crypto';

/** Current and legacy header names (docs/mori-api.md, "Signatures"); Node lower-cases header names. */
const SIGNATURE_HEADERS = ['x-moribiz-signature', 'x-mori-signature'] as const;

type SignatureFailure = 'missing' | 'malformed' | 'mismatch';
export type SignatureResult = { ok: true; header: string } | { ok: false; reason: SignatureFailure };

type Headers = Record<string, string | string[] | undefined>;

/** An HMAC-SHA256 in hex: 32 bytes, 64 characters. */
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * True when `signatureHex` is the HMAC-SHA256 of `body` under one of `secrets`. MORI keys the
 * HMAC with the secret string exactly as issued, `whsec_` prefix included, so the secret is used
 * as UTF-8 bytes and never base64-decoded (that would be the Standard Webhooks convention).
 * Every secret is tried, and each comparison runs in constant time over equal-length buffers.
 */
function matchesAnySecret(body: Buffer | string, signatureHex: string, secrets: readonly string[]): boolean {
  const given = Buffer.from(signatureHex, 'hex');
  let matched = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    // No early exit: the time taken does not reveal which secret (if any) matched.
    matched = timingSafeEqual(expected, given) || matched;
  }
  return matched;
}

/**
 * Checks MORI's signature over the raw request bytes. Either header may carry it; the current one
 * is read first. A value that is not 64 hex digits is `malformed` and never reaches the comparison.
 */
export function verifySignature(raw: Buffer, headers: Headers, secrets: readonly string[]): SignatureResult {
  const present = SIGNATURE_HEADERS.map((name) => ({ name, value: headerValue(headers, name)?.trim() })).filter(
    (h): h is { name: (typeof SIGNATURE_HEADERS)[number]; value: string } => h.value !== undefined && h.value !== '',
  );
  if (present.length === 0) return { ok: false, reason: 'missing' };
  const wellFormed = present.filter((h) => HEX_SHA256.test(h.value));
  if (wellFormed.length === 0) return { ok: false, reason: 'malformed' };
  for (const h of wellFormed) {
    if (matchesAnySecret(raw, h.value, secrets)) return { ok: true, header: h.name };
  }
  return { ok: false, reason: 'mismatch' };
}
