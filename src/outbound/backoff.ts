/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [0, min(cap, base · 2^attempt)]. Jitter spreads the retries of many workers
 * so they do not hit MORI in waves, which is why MORI's docs ask for it. `attempt` counts from 0.
 */
export function fullJitter(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds a `Retry-After` header asks us to wait (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), clamped to [0, capMs]; undefined when absent or unreadable.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  nowMs: number,
  capMs: number,
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    // An HTTP-date always names its weekday and month; this keeps "-5" from parsing as year -5.
    if (!/[A-Za-z]/.test(value)) return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(capMs, Math.max(0, ms));
}
