import { createHmac } from 'node:crypto';

/**
 * Signs a body the way MORI does: lowercase hex HMAC-SHA256, keyed with the secret string as
 * issued (whsec_ prefix included). Written against node:crypto directly, independent of
 * src/webhook/verify-signature.ts, so a bug there cannot hide in both.
 */
export function moriSign(body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
