import { errors } from 'undici';

/**
 * Why an outbound request (a MORI look-up, an http sink delivery) failed before it had an answer:
 * - `timeout`: our deadline (AbortSignal.timeout), or undici's connect, headers or body timeout;
 * - `refused`: nothing listens at the address (ECONNREFUSED);
 * - `reset`: the peer closed or reset the connection mid-request;
 * - `too-large`: the answer passed the client's `maxResponseSize`;
 * - `network`: anything else below HTTP (DNS, TLS, an unreachable host).
 * Every kind but `too-large` is worth retrying; the callers decide.
 */
export type RequestFailureKind = 'timeout' | 'refused' | 'reset' | 'too-large' | 'network';

export interface RequestFailure {
  kind: RequestFailureKind;
  /** A short reason for logs: the error code when there is one. Never the URL or a header. */
  detail: string;
}

const TIMEOUT_ERRORS = [errors.HeadersTimeoutError, errors.BodyTimeoutError, errors.ConnectTimeoutError];
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A connection to a name with several addresses (localhost: ::1 and 127.0.0.1) fails with an
 * AggregateError whose `errors` carry the codes; a wrapped error carries it in `cause`.
 */
function codesOf(err: unknown): string[] {
  const found: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || depth > 3) return;
    const code = codeOf(e);
    if (code) found.push(code);
    visit((e as { cause?: unknown }).cause, depth + 1);
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) visit(inner, depth + 1);
  };
  visit(err, 0);
  return found;
}

/** Classifies by undici's error classes first, then by the system error codes they wrap. */
export function describeRequestFailure(err: unknown): RequestFailure {
  if ((err as { name?: unknown } | null)?.name === 'TimeoutError' || TIMEOUT_ERRORS.some((E) => err instanceof E)) {
    return { kind: 'timeout', detail: codeOf(err) ?? 'deadline passed' };
  }
  if (err instanceof errors.ResponseExceededMaxSizeError) return { kind: 'too-large', detail: err.code };
  const codes = codesOf(err);
  const first = codes[0] ?? (err instanceof Error ? err.message : String(err));
  if (codes.includes('ECONNREFUSED')) return { kind: 'refused', detail: 'ECONNREFUSED' };
  if (err instanceof errors.SocketError || codes.some((c) => RESET_CODES.has(c)))
    return { kind: 'reset', detail: first };
  return { kind: 'network', detail: first };
}
