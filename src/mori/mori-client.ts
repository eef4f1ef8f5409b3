import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type buildConnector } from 'undici';
import { ORDER_ID_PATTERN } from '../webhook/event-schema.js';
import { fullJitter, parseRetryAfter } from '../outbound/backoff.js';
import { describeRequestFailure, type RequestFailureKind } from '../outbound/describe-request-failure.js';
import { moriErrorSchema, orderResponseSchema, type MoriOrder } from './order-schema.js';

/**
 * - `not-found`: 404, the order is not this account's; never retried.
 * - `auth`: 401/403, the API token is wrong; a configuration error, never retried here.
 * - `client`: another 4xx, or an order id we refuse to put in a URL; never retried.
 * - `retryable`: network error, timeout, 429 or 5xx; retried here briefly, then by the job.
 * - `invalid-response`: a 200 whose body is not an order.
 */
export type MoriErrorKind = 'not-found' | 'auth' | 'client' | 'retryable' | 'invalid-response';

export class MoriApiError extends Error {
  readonly kind: MoriErrorKind;
  /** HTTP status; undefined for network errors and timeouts. */
  readonly status: number | undefined;
  readonly moriCode: string | undefined;
  /** How long MORI asked us to wait (Retry-After), when it did. */
  readonly retryAfterMs: number | undefined;
  /** For failures without an HTTP answer: timeout, refused, reset or network. */
  readonly failure: RequestFailureKind | undefined;

  constructor(
    kind: MoriErrorKind,
    message: string,
    opts: { status?: number; moriCode?: string; retryAfterMs?: number; failure?: RequestFailureKind; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'MoriApiError';
    this.kind = kind;
    this.status = opts.status;
    this.moriCode = opts.moriCode;
    this.retryAfterMs = opts.retryAfterMs;
    this.failure = opts.failure;
  }
}

export interface MoriClientOptions {
  baseUrl: string;
  token: string;
  /** Whole-request deadline; MORI recommends 30 s (CONTRACT.md A). */
  timeoutMs: number;
  /** Retries inside one look-up, for blips; longer outages are the job's retries. @defaultValue 2 */
  quickRetries?: number;
  /** @defaultValue 250 */
  quickRetryBaseMs?: number;
  /** A Retry-After longer than this ends the quick retries and is handed to the job. @defaultValue 2000 */
  quickRetryCapMs?: number;
  /** The longest Retry-After we honour. @defaultValue 300000 (5 min) */
  retryAfterCapMs?: number;
  /** Keep-alive sockets to MORI per process. @defaultValue 16 */
  connections?: number;
  /** TLS settings for the connection: a private CA in front of MORI, or a test server's certificate. */
  connect?: buildConnector.BuildOptions;
  /** Called once per HTTP attempt, for the latency histogram: the status code, `timeout` or `network_error`. */
  onResponse?: (outcome: { status: string; seconds: number }) => void;
}

export interface MoriClient {
  getOrder(orderId: string): Promise<MoriOrder>;
  close(): Promise<void>;
}

/**
 * An order is a few KiB; anything much larger is not an order, and undici stops reading it
 * (`maxResponseSize`, enforced on HTTP/1.1 and, since undici 8.11, on HTTP/2).
 */
const MAX_BODY_BYTES = 1024 * 1024;

function describeError(status: number, text: string): { message: string; moriCode?: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { message: `MORI answered ${status}` };
  }
  const parsed = moriErrorSchema.safeParse(json);
  if (!parsed.success) return { message: `MORI answered ${status}` };
  const e = parsed.data;
  const detail = [e.code, e.message ?? e.errors?.message].filter(Boolean).join(': ');
  const field = e.errors?.propertyName ? ` (${e.errors.propertyName})` : '';
  return { message: `MORI answered ${status}${detail ? ` ${detail}` : ''}${field}`, moriCode: e.code };
}

/**
 * The MORI API client: one pooled keep-alive connection set per process. `getOrder` validates the
 * id before it reaches a URL, validates the answer with zod (keeping every field), and classifies
 * failures so the worker can decide between retrying, pausing and giving up.
 */
export function createMoriClient(opts: MoriClientOptions): MoriClient {
  const base = new URL(opts.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  // HTTP/1.1 only (undici 8 would negotiate HTTP/2 over TLS by default): MORI documents a plain
  // REST API, and our budget allows at most ~17 look-ups a second (docs/mori-api.md, "Auth and
  // rate limits"), which a few keep-alive sockets carry; HTTP/1.1 keeps undici's oldest, best-worn
  // timeout and size checks on the path to MORI (docs/decisions.md, "HTTP/2").
  const pool = new Pool(base.origin, {
    connections: opts.connections ?? 16,
    keepAliveTimeout: 30_000,
    allowH2: false,
    maxResponseSize: MAX_BODY_BYTES,
    ...(opts.connect ? { connect: opts.connect } : {}),
  });
  const quickRetries = opts.quickRetries ?? 2;
  const quickBase = opts.quickRetryBaseMs ?? 250;
  const quickCap = opts.quickRetryCapMs ?? 2000;
  const retryAfterCap = opts.retryAfterCapMs ?? 300_000;
  const report = opts.onResponse ?? (() => undefined);

  async function attempt(orderId: string): Promise<MoriOrder> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await pool.request({
        method: 'GET',
        path: `${basePath}/api/v2/orders/${encodeURIComponent(orderId)}`,
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json', 'user-agent': 'mori-webhook-receiver' },
        signal: AbortSignal.timeout(opts.timeoutMs),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      const failure = describeRequestFailure(err);
      report({ status: failure.kind === 'timeout' ? 'timeout' : 'network_error', seconds: seconds() });
      if (failure.kind === 'too-large') {
        throw new MoriApiError('invalid-response', `MORI's answer for order ${orderId} was larger than ${MAX_BODY_BYTES} bytes`, { cause: err });
      }
      const why = failure.kind === 'timeout' ? `timed out after ${opts.timeoutMs} ms` : `failed: ${failure.kind} (${failure.detail})`;
      throw new MoriApiError('retryable', `MORI look-up of order ${orderId} ${why}`, { cause: err, failure: failure.kind });
    }
    const status = res.statusCode;
    report({ status: String(status), seconds: seconds() });

    if (status === 200) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new MoriApiError('invalid-response', `MORI answered 200 for order ${orderId} with a body that is not JSON`, { status });
      }
      const parsed = orderResponseSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new MoriApiError('invalid-response', `MORI's order ${orderId} is malformed: data.${issue?.path.join('.')}: ${issue?.message}`, { status });
      }
      if (parsed.data.data.orderId !== orderId) {
        throw new MoriApiError('invalid-response', `MORI answered order ${parsed.data.data.orderId} when asked for ${orderId}`, { status });
      }
      return parsed.data.data;
    }
    const { message, moriCode } = describeError(status, text);
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now(), retryAfterCap);
    const common = { status, moriCode, retryAfterMs };
    if (status === 404) throw new MoriApiError('not-found', `${message} for order ${orderId}`, common);
    if (status === 401 || status === 403) throw new MoriApiError('auth', `${message}: MORI refused the API token`, common);
    if (status === 429 || status >= 500) throw new MoriApiError('retryable', `${message} for order ${orderId}`, common);
    throw new MoriApiError('client', `${message} for order ${orderId}`, common);
  }

  return {
    async getOrder(orderId) {
      if (!ORDER_ID_PATTERN.test(orderId)) throw new MoriApiError('client', 'refusing to look up an order id outside the safe pattern');
      for (let n = 0; ; n++) {
        try {
          return await attempt(orderId);
        } catch (err) {
          if (!(err instanceof MoriApiError) || err.kind !== 'retryable' || n >= quickRetries) throw err;
          if (err.retryAfterMs !== undefined && err.retryAfterMs > quickCap) throw err;
          await sleep(Math.max(err.retryAfterMs ?? 0, fullJitter(n, quickBase, quickCap)));
        }
      }
    },
    close: () => pool.close(),
  };
}
