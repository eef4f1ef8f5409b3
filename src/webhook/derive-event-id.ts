import { createHash } from 'node:crypto';

/**
 * An event id for a body that has none: the SHA-256 of the exact bytes. MORI's retries resend the
 * same bytes, so they get the same id and dedupe like any other event (docs/interface.md).
 */
export function deriveEventId(raw: Buffer): string {
  return `sha256-${createHash('sha256').update(raw).digest('hex')}`;
}
