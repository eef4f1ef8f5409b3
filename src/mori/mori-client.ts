import { Pool, type buildConnector } from 'undici';
import { ORDER_ID_PATTERN } from '../orders/order-id.js';
import { parseRetryAfter } from '../outbound/backoff.js';
import { describeRequestFailure, type RequestFailureKind } from '../outbound/describe-request-failure.js';
import type { z } from 'zod';
import {
  downloadResponseSchema,
  moriErrorSchema,
  orderListResponseSchema,
  orderResponseSchema,
  type DownloadLinks,
  type MoriOrder,
  type OrderListPage,
} from './order-schema.js';

/**
 * - `not-found`: 404, the order is not this account's; never retried.
 * - `auth`: 401/403, the API token is wrong; a configuration error, never retried here.
 * - `rate-limited`: `RATE_LIMIT_EXCEEDED` (or a 429 without a quota code): the account's per-minute
 *   limit; every worker slows down (docs/mori-api.md, "Auth and rate limits").
 * - `quota`: `USAGE_LIMIT_EXCEEDED`, `USAGE_NOT_ENOUGH`, `PLAN_LIMIT_EXCEEDED`: the plan's usage is
 *   spent; retrying does not help until someone acts. Decided by the code, never by the status.
 * - `client`: another 4xx, or an order id we refuse to put in a URL; never retried.
 * - `retryable`: network error, timeout or 5xx; retried by the job with backoff.
 * - `invalid-response`: a 200 whose body is not an order.
 */
export type MoriErrorKind =
  'not-found' | 'auth' | 'rate-limited' | 'quota' | 'client' | 'retryable' | 'invalid-response';

/** Codes of a spent quota, whatever status MORI answers them with (400, 429). */
const QUOTA_CODES: ReadonlySet<string> = new Set(['USAGE_LIMIT_EXCEEDED', 'USAGE_NOT_ENOUGH', 'PLAN_LIMIT_EXCEEDED']);

/**
 * Why we spend a call, for the `mori_api_calls_total{purpose}` metric:
 * - `lookup`: the one look-up an announced order state costs;
 * - `recheck`: the order was not final yet, so it is looked at again;
 * - `retry`: the previous look-up failed (network, 5xx, 429);
 * - `refresh`: a late delivery re-reads the order for presigned URLs that still work;
 * - `reconcile`: the reconciler reads MORI's order list to find orders whose webhooks were lost;
 * - `manage`: the command-line tool manages webhooks and asks MORI to resend failed events;
 * - `download`: the archive sink asks for fresh links to an order's files.
 */
export type CallPurpose = 'lookup' | 'recheck' | 'retry' | 'refresh' | 'reconcile' | 'manage' | 'download';

type MoriApiVersion = 'v2' | 'v3';

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
    opts: {
      status?: number;
      moriCode?: string;
      retryAfterMs?: number;
      failure?: RequestFailureKind;
      cause?: unknown;
    } = {},
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
  /** `v3` (current) or `v2` (deprecated, for accounts that need it). @defaultValue 'v3' */
  apiVersion?: MoriApiVersion;
  /** Whole-request deadline; MORI recommends 30 s (docs/mori-api.md, "Auth and rate limits"). */
  timeoutMs: number;
  /** The longest Retry-After we honour. @defaultValue 300000 (5 min) */
  retryAfterCapMs?: number;
  /** Keep-alive sockets to MORI per process. @defaultValue 16 */
  connections?: number;
  /** TLS settings for the connection: a private CA in front of MORI, or a test server's certificate. */
  connect?: buildConnector.BuildOptions;
  /** Called once per HTTP call: purpose, endpoint, the status code (or `timeout` / `network_error`), duration. */
  onCall?: (call: { purpose: CallPurpose; endpoint: string; status: string; seconds: number }) => void;
  /** Called when an answer carries `Deprecation` or `Sunset` headers. */
  onDeprecation?: (notice: { endpoint: string; deprecation: string | undefined; sunset: string | undefined }) => void;
}

export interface MoriClient {
  readonly apiVersion: MoriApiVersion;
  /** One HTTP call, never retried here: every call is counted and spent from the account's budget. */
  getOrder(orderId: string, purpose: CallPurpose): Promise<MoriOrder>;
  /**
   * Any other call (webhook management, the delivery log), for the command-line tool: the JSON of
   * a 2xx (null when empty) and MORI's `Date` header (its clock, for `doctor`), or a classified
   * MoriApiError. Counted with purpose `manage`.
   */
  request(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    endpoint: string,
    what: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; date: string | undefined }>;
  /** Fresh presigned links to a complete antiAi / watermarkEmbed order's files (they last at most an hour). */
  getDownloadLinks(orderId: string): Promise<DownloadLinks>;
  /** One page of `GET /api/v2/orders` (most recent first; there is no v3 list). */
  listOrders(query: { page: number; limit: number; channel: string }, purpose: CallPurpose): Promise<OrderListPage>;
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

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * The MORI API client: one pooled keep-alive connection set per process. `getOrder` validates the
 * id before it reaches a URL, validates the answer with zod (keeping every field), and classifies
 * failures so the worker can decide between retrying, slowing down, pausing and giving up. It never
 * retries by itself: a retry is a job retry, which passes the shared look-up budget again.
 */
export function createMoriClient(opts: MoriClientOptions): MoriClient {
  const base = new URL(opts.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const apiVersion = opts.apiVersion ?? 'v3';
  const orderEndpoint = `GET /api/${apiVersion}/orders/{id}`;
  // HTTP/1.1 only (undici 8 would negotiate HTTP/2 over TLS by default): MORI documents a plain
  // REST API, and the look-up budget allows at most ~17 calls a second (docs/mori-api.md, "Auth and
  // rate limits"), which a few keep-alive sockets carry; HTTP/1.1 keeps undici's oldest, best-worn
  // timeout and size checks on the path to MORI (docs/decisions.md, "HTTP/2").
  const pool = new Pool(base.origin, {
    connections: opts.connections ?? 16,
    keepAliveTimeout: 30_000,
    allowH2: false,
    maxResponseSize: MAX_BODY_BYTES,
    ...(opts.connect ? { connect: opts.connect } : {}),
  });
  const retryAfterCap = opts.retryAfterCapMs ?? 300_000;
  const report = opts.onCall ?? (() => undefined);

  /**
   * One GET to MORI: the parsed JSON of a 200, or a classified MoriApiError. `what` names the call
   * in messages ("look-up of order 123"); `endpoint` is its metric label.
   */
  async function call(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    endpoint: string,
    purpose: CallPurpose,
    what: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; date: string | undefined }> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await pool.request({
        method,
        path: `${basePath}${path}`,
        headers: {
          authorization: `Bearer ${opts.token}`,
          accept: 'application/json',
          'user-agent': 'mori-webhook-receiver',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(opts.timeoutMs),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      const failure = describeRequestFailure(err);
      report({
        purpose,
        endpoint,
        status: failure.kind === 'timeout' ? 'timeout' : 'network_error',
        seconds: seconds(),
      });
      if (failure.kind === 'too-large') {
        throw new MoriApiError(
          'invalid-response',
          `MORI's answer to the ${what} was larger than ${MAX_BODY_BYTES} bytes`,
          { cause: err },
        );
      }
      const why =
        failure.kind === 'timeout'
          ? `timed out after ${opts.timeoutMs} ms`
          : `failed: ${failure.kind} (${failure.detail})`;
      throw new MoriApiError('retryable', `MORI ${what} ${why}`, { cause: err, failure: failure.kind });
    }
    const status = res.statusCode;
    report({ purpose, endpoint, status: String(status), seconds: seconds() });
    const deprecation = header(res.headers.deprecation);
    const sunset = header(res.headers.sunset);
    if (deprecation !== undefined || sunset !== undefined) opts.onDeprecation?.({ endpoint, deprecation, sunset });

    if (status >= 200 && status < 300) {
      const date = header(res.headers.date);
      if (text === '') return { status, json: null, date };
      try {
        return { status, json: JSON.parse(text) as unknown, date };
      } catch {
        throw new MoriApiError('invalid-response', `MORI answered 200 to the ${what} with a body that is not JSON`, {
          status,
        });
      }
    }
    const { message, moriCode } = describeError(status, text);
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now(), retryAfterCap);
    const common = { status, moriCode, retryAfterMs };
    if (moriCode !== undefined && QUOTA_CODES.has(moriCode)) {
      throw new MoriApiError('quota', `${message}: the MORI plan's usage is spent`, common);
    }
    if (moriCode === 'RATE_LIMIT_EXCEEDED' || status === 429)
      throw new MoriApiError('rate-limited', `${message} (${what})`, common);
    if (status === 404) throw new MoriApiError('not-found', `${message} (${what})`, common);
    if (status === 401 || status === 403)
      throw new MoriApiError('auth', `${message}: MORI refused the API token`, common);
    if (status >= 500) throw new MoriApiError('retryable', `${message} (${what})`, common);
    throw new MoriApiError('client', `${message} (${what})`, common);
  }

  /** The first schema issue, as `data.<path>: <message>`, never echoing a value (it may be a presigned URL). */
  const firstIssue = (error: z.ZodError): string => {
    const issue = error.issues[0];
    return `data.${issue?.path.join('.')}: ${issue?.message}`;
  };

  async function getOrder(orderId: string, purpose: CallPurpose): Promise<MoriOrder> {
    if (!ORDER_ID_PATTERN.test(orderId)) {
      throw new MoriApiError('client', 'refusing to look up an order id outside the safe pattern');
    }
    const what = `look-up of order ${orderId}`;
    const { status, json } = await call(
      'GET',
      `/api/${apiVersion}/orders/${encodeURIComponent(orderId)}`,
      orderEndpoint,
      purpose,
      what,
    );
    const parsed = orderResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new MoriApiError('invalid-response', `MORI's order ${orderId} is malformed: ${firstIssue(parsed.error)}`, {
        status,
      });
    }
    if (parsed.data.data.orderId !== orderId) {
      throw new MoriApiError(
        'invalid-response',
        `MORI answered order ${parsed.data.data.orderId} when asked for ${orderId}`,
        { status },
      );
    }
    return parsed.data.data;
  }

  async function listOrders(
    query: { page: number; limit: number; channel: string },
    purpose: CallPurpose,
  ): Promise<OrderListPage> {
    const params = new URLSearchParams({
      page: String(query.page),
      limit: String(query.limit),
      status: 'all',
      channel: query.channel,
    });
    const { status, json } = await call(
      'GET',
      `/api/v2/orders?${params.toString()}`,
      'GET /api/v2/orders',
      purpose,
      `order list page ${query.page}`,
    );
    const parsed = orderListResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new MoriApiError(
        'invalid-response',
        `MORI's order list page ${query.page} is malformed: ${firstIssue(parsed.error)}`,
        { status },
      );
    }
    return parsed.data.data;
  }

  async function getDownloadLinks(orderId: string): Promise<DownloadLinks> {
    if (!ORDER_ID_PATTERN.test(orderId)) {
      throw new MoriApiError('client', 'refusing to ask for downloads of an order id outside the safe pattern');
    }
    const what = `download links of order ${orderId}`;
    const path = `/api/v3/orders/${encodeURIComponent(orderId)}/download`;
    const { status, json } = await call('GET', path, 'GET /api/v3/orders/{id}/download', 'download', what);
    const parsed = downloadResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new MoriApiError('invalid-response', `MORI's ${what} are malformed: ${firstIssue(parsed.error)}`, {
        status,
      });
    }
    return parsed.data.data;
  }

  return {
    apiVersion,
    getOrder,
    getDownloadLinks,
    listOrders,
    request: (method, path, endpoint, what, body) => call(method, path, endpoint, 'manage', what, body),
    close: () => pool.close(),
  };
}
