import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level and no whitespace: one text for every layout. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * An event id for a body that has none: the SHA-256 of its canonical form (keys sorted, no
 * whitespace). MORI's retries resend the same event, and a proxy that re-indents or reorders it
 * must not turn each copy into a new job and a new MORI look-up (docs/interface.md). The body is
 * already parsed and known to nest at most 32 levels, so the recursion is bounded.
 */
export function deriveEventId(body: unknown): string {
  return `sha256-${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}
