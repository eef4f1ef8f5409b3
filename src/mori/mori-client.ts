import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { ORDER_ID_PATTERN } from '../webhook/event-schema.js';
import { fullJitter, parseRetryAfter } from './backoff.js';
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

  constructor(kind: MoriErrorKind, message: string, opts: { status?: number; moriCode?: string; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'MoriApiError';
    this.kind = kind;
    this.status = opts.status;
    this.moriCode = opts.moriCode;
    this.retryAfterMs = opts.retryAfterMs;
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
  /** Called once per HTTP attempt, for the latency histogram: the status code, `timeout` or `network_error`. */
  onResponse?: (outcome: { status: string; seconds: number }) => void;
}

export interface MoriClient {
  getOrder(orderId: string): Promise<MoriOrder>;
  close(): Promise<void>;
}

/** An order is a few KiB; anything much larger is not an order, and is not read into memory. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(body: AsyncIterable<Buffer | string> & { destroy?: () => void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy?.();
      throw new MoriApiError('invalid-response', `MORI's answer was larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

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

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT';
}

/**
 * The MORI API client: one pooled keep-alive connection set per process. `getOrder` validates the
 * id before it reaches a URL, validates the answer with zod (keeping every field), and classifies
 * failures so the worker can decide between retrying, pausing and giving up.
 */
export function createMoriClient(opts: MoriClientOptions): MoriClient {
  const base = new URL(opts.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, { connections: opts.connections ?? 16, keepAliveTimeout: 30_000 });
  const quickRetries = opts.quickRetries ?? 2;
  const quickBase = opts.quickRetryBaseMs ?? 250;
  const quickCap = opts.quickRetryCapMs ?? 2000;
  const retryAfterCap = opts.retryAfterCapMs ?? 300_000;
  const report = opts.onResponse ?? (() => undefined);

  async function attempt(orderId: string): Promise<MoriOrder> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await pool.request({
        method: 'GET',
        path: `${basePath}/api/v2/orders/${encodeURIComponent(orderId)}`,
        headers: { authorization: `Bearer ${opts.token}`, accept: 'application/json', 'user-agent': 'mori-webhook-receiver' },
        signal: AbortSignal.timeout(opts.timeoutMs),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
    } catch (err) {
      const timeout = isTimeout(err);
      report({ status: timeout ? 'timeout' : 'network_error', seconds: seconds() });
      const why = timeout ? `timed out after ${opts.timeoutMs} ms` : `failed: ${(err as { code?: string }).code ?? (err as Error).message}`;
      throw new MoriApiError('retryable', `MORI look-up of order ${orderId} ${why}`, { cause: err });
    }
    let text: string;
    try {
      text = await readBody(res.body);
    } catch (err) {
      report({ status: isTimeout(err) ? 'timeout' : 'network_error', seconds: seconds() });
      if (err instanceof MoriApiError) throw err;
      throw new MoriApiError('retryable', `MORI look-up of order ${orderId}: the answer broke off`, { cause: err });
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
