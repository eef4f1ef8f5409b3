import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { PLAN_LIMITS_PER_MINUTE, type MoriPlan } from '../mori/lookup-budget.js';
import { ORDER_ID_PATTERN } from '../orders/order-id.js';
import { ORDER_TYPES, isDownloadable } from '../orders/order-status.js';
import { UsageError, type CliContext } from './io.js';
import {
  buildSampleEvent,
  buildSampleOrder,
  failsInSimulator,
  orderTypeFor,
  outcomeForFileName,
  randomOrderId,
  type OrderType,
  type SampleOutcome,
} from './sample-orders.js';

export const MOCK_MORI_HELP = `mock-mori [--port 4010] [--host 127.0.0.1] [--token T] [--finish-after SECONDS]
          [--webhook-url URL --secret S] [--create-every SECONDS [--type TYPE] [--failed]] [--plan free|pro|enterprise]
  A local MORI API simulator; prints one line per request it answers. Serves GET /api/v3/orders/{id}
  and /api/v2/orders/{id} for any id (type chosen from the id, as send-test-event --type picks it;
  inProgress until --finish-after seconds after first seen, then complete, or failed for ids ending
  in 000, as send-test-event --failed picks them); with --plan, answers 429 RATE_LIMIT_EXCEEDED over the plan's requests a minute; and
  the webhook API: POST /api/v2/orders/webhooks registers one (answers a new whsec_ secret once),
  GET lists them, DELETE .../{id} removes one, .../{id}/events is the delivery log and
  .../{id}/events/retry-failed resends FAILED events (7 days, 50 events a call), as MORI does.
  POST /simulate/orders {"type":"aiDetection","fileName":"cat_ai.png"} creates an order, its outcome
  chosen by the file name as in MORI's test mode (_fail, _detected, _undetected, _ai, _human); when it finishes,
  the simulator sends the signed event to every registered webhook and to --webhook-url, retrying
  like MORI (after 1, 2 and 4 s). --create-every creates one order every N seconds (the demo), of
  --type (default: any) and failed with --failed. GET /healthz answers 200 without a token.`;

/** MORI's documented retry schedule after a failed delivery: ~1 s, 2 s, 4 s (docs/mori-api.md). */
const MORI_RETRY_DELAYS_MS = [1000, 2000, 4000];

interface SimOrder {
  orderId: string;
  type: OrderType;
  status: 'inProgress' | 'complete' | 'failed';
  createdAt: Date;
  finishesAt: number;
  outcome: SampleOutcome;
  announced: boolean;
}

interface Webhook {
  url: string;
  secret: string;
}

/** One event in a webhook's delivery log, as MORI keeps it (docs/mori-api.md, "Webhooks"). */
interface LoggedEvent {
  id: number;
  eventId: string;
  eventType: string;
  status: 'PENDING' | 'SENT' | 'RETRYING' | 'FAILED';
  retries: number;
  lastSentAt: string | null;
  createdAt: string;
  body: string;
}

interface RegisteredWebhook extends Webhook {
  id: number;
  name: string;
  isTest: boolean;
  lastSentAt: string | null;
  events: LoggedEvent[];
}

export interface MockMoriOptions {
  token?: string;
  finishAfterMs: number;
  /** Requests allowed per window (a sliding window over every /api/ call); unlimited when unset. */
  rateLimit?: { max: number; windowMs: number };
  webhooks?: Webhook[];
  /** MORI's retry schedule after a failed delivery. @defaultValue [1000, 2000, 4000] */
  retryDelaysMs?: number[];
  /** Size of each output file served through the download links. @defaultValue 65536 */
  fileBytes?: number;
  /** How many file downloads to cut off halfway, to play a network that breaks. @defaultValue 0 */
  cutDownloads?: number;
  log?: (line: string) => void;
  /** How far the simulator's clock (its `Date` header) is ahead of ours, to play a skewed clock. @defaultValue 0 */
  clockSkewMs?: number;
  /**
   * What an order id never created, set or scripted gets: `simulate` (any id is an order, the
   * CLI's demo) or `not-found` (404 ORDER_NOT_FOUND, as MORI answers for another account's id: tests
   * that set each order). @defaultValue 'simulate'
   */
  unknownOrders?: 'simulate' | 'not-found';
}

/**
 * One scripted answer to an order look-up, for tests: an HTTP error, a given order, or a delay
 * (then the next answer). Consumed one per look-up, before the order's usual answer.
 */
type ScriptedAnswer =
  | { status: number; body?: unknown; retryAfter?: string; delayMs?: number; headers?: Record<string, string> }
  | { order: Record<string, unknown>; delayMs?: number; headers?: Record<string, string> }
  | { delayMs: number };

/** A request as the simulator saw it; `orderId` is empty for other paths than an order's detail. */
interface RecordedRequest {
  method: string;
  path: string;
  orderId: string;
  authorization: string | undefined;
  at: number;
}

export interface MockMori {
  server: Server;
  /** An order that finishes after `finishAfterMs` and is announced to every registered webhook. */
  createOrder(type?: OrderType, outcome?: SampleOutcome): Record<string, unknown>;
  /** Every /api/ request served, how many were answered 429, and file downloads started. */
  stats: { requests: number; rateLimited: number; downloads: number };
  /** Serve this order exactly as given (v2 and v3 alike) from now on. */
  setOrder(order: Record<string, unknown>): void;
  /** Answers to an order's next look-ups, in order; then its usual answer. */
  script(orderId: string, answers: ScriptedAnswer[]): void;
  /** Accept another bearer token from now on (to "fix" a misconfigured token). */
  setToken(token: string): void;
  /** Every request received, authorized or not. */
  requests: RecordedRequest[];
  requestsFor(orderId: string): RecordedRequest[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function moriError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { success: false, message, code, errors: { message, propertyName: null } });
}

/** A path segment as text; a malformed %-escape stays as it came (the id check refuses it). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new Error('body too large');
  }
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Starts the simulator; the CLI and the tests both use it. */
export function createMockMori(opts: MockMoriOptions): MockMori {
  const orders = new Map<string, SimOrder>();
  let nextId = 1;
  const register = (hook: Webhook, name = 'webhook', isTest = false): RegisteredWebhook => {
    const registered = { ...hook, id: nextId++, name, isTest, lastSentAt: null, events: [] };
    webhooks.push(registered);
    return registered;
  };
  const webhooks: RegisteredWebhook[] = [];
  for (const hook of opts.webhooks ?? []) register(hook);
  const retryDelays = opts.retryDelaysMs ?? MORI_RETRY_DELAYS_MS;
  let nextEventId = 1;
  const timers = new Set<NodeJS.Timeout>();
  const log = opts.log ?? (() => undefined);

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  /** One attempt; true when the receiver answered 2xx. */
  async function send(hook: RegisteredWebhook, entry: LoggedEvent): Promise<boolean> {
    const body = entry.body;
    const signature = createHmac('sha256', hook.secret).update(body).digest('hex');
    let status: number;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-moribiz-signature': signature },
        body,
        signal: AbortSignal.timeout(5000),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0;
    }
    entry.lastSentAt = hook.lastSentAt = new Date().toISOString();
    log(`webhook → ${hook.url}: ${status || 'no answer'} (event ${entry.id}, try ${entry.retries + 1})`);
    return status >= 200 && status < 300;
  }

  /** Sends, then retries on MORI's schedule; FAILED once the schedule is spent. */
  async function deliver(hook: RegisteredWebhook, entry: LoggedEvent, attempt = 0): Promise<void> {
    if (await send(hook, entry)) {
      entry.status = 'SENT';
      return;
    }
    const delay = retryDelays[attempt];
    if (delay === undefined) {
      entry.status = 'FAILED';
      return;
    }
    entry.status = 'RETRYING';
    later(delay, () => {
      entry.retries += 1;
      void deliver(hook, entry, attempt + 1);
    });
  }

  function announce(body: string, event: { eventId: string; eventType: string }): void {
    for (const hook of webhooks) {
      const entry: LoggedEvent = {
        id: nextEventId++,
        ...event,
        status: 'PENDING',
        retries: 0,
        lastSentAt: null,
        createdAt: new Date().toISOString(),
        body,
      };
      hook.events.push(entry);
      void deliver(hook, entry);
    }
  }

  /** `page` and `limit` of a list request, as MORI reads them (limit 1-100, default 10). */
  const pageOf = (url: URL) => {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 10) || 10));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    return { page, limit };
  };

  function track(
    orderId: string,
    type?: OrderType,
    outcome: SampleOutcome = failsInSimulator(orderId) ? { failed: true } : {},
  ): SimOrder {
    let sim = orders.get(orderId);
    if (!sim) {
      sim = {
        orderId,
        type: type ?? orderTypeFor(orderId),
        status: 'inProgress',
        createdAt: new Date(),
        finishesAt: Date.now() + opts.finishAfterMs,
        outcome,
        announced: false,
      };
      orders.set(orderId, sim);
    }
    if (sim.status === 'inProgress' && Date.now() >= sim.finishesAt)
      sim.status = sim.outcome.failed ? 'failed' : 'complete';
    return sim;
  }

  function render(sim: SimOrder, apiVersion: 'v2' | 'v3' = 'v3'): Record<string, unknown> {
    const updatedAt = sim.status === 'inProgress' ? sim.createdAt : new Date(sim.finishesAt);
    return buildSampleOrder(sim.orderId, {
      type: sim.type,
      status: sim.status,
      createdAt: sim.createdAt,
      updatedAt,
      outcome: sim.outcome,
      apiVersion,
    });
  }

  /** A row of the order list: the v2 detail's summary fields. */
  function listRow(sim: SimOrder): Record<string, unknown> {
    const {
      orderId,
      orderName,
      type,
      channel,
      status,
      createdAt,
      updatedAt,
      thumbnailImageUrl,
      probability,
      statusCode,
    } = render(sim, 'v2');
    return {
      orderId,
      orderName,
      type,
      channel,
      status,
      fileCount: 1,
      createdAt,
      updatedAt,
      thumbnailImageUrl,
      probability,
      statusCode,
    };
  }

  function announceWhenFinished(sim: SimOrder): void {
    later(Math.max(0, sim.finishesAt - Date.now()), () => {
      if (sim.announced) return;
      sim.announced = true;
      const event = buildSampleEvent(render(track(sim.orderId)));
      announce(JSON.stringify(event), { eventId: String(event.eventId), eventType: String(event.eventType) });
    });
  }

  const createOrder = (type?: OrderType, outcome: SampleOutcome = {}) => {
    const sim = track(randomOrderId(), type, outcome);
    announceWhenFinished(sim);
    log(`order ${sim.orderId} (${sim.type}) created; finishes in ${opts.finishAfterMs} ms`);
    return render(sim);
  };

  const stats = { requests: 0, rateLimited: 0, downloads: 0 };
  const fixedOrders = new Map<string, Record<string, unknown>>();
  const scripts = new Map<string, ScriptedAnswer[]>();
  const requests: RecordedRequest[] = [];
  let token = opts.token;
  let cutsLeft = opts.cutDownloads ?? 0;
  const fileBytes = opts.fileBytes ?? 64 * 1024;

  /** An output file's bytes: the same for the same file id, so a test can check the archive's hash. */
  function serveFile(res: ServerResponse, fileId: string): void {
    stats.downloads += 1;
    const line = Buffer.from(`${fileId} `.repeat(64).slice(0, 64));
    const body = Buffer.alloc(fileBytes);
    for (let i = 0; i < fileBytes; i += line.length) line.copy(body, i);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(fileBytes) });
    if (cutsLeft > 0) {
      cutsLeft -= 1;
      res.write(body.subarray(0, fileBytes / 2), () => res.destroy());
      return;
    }
    res.end(body);
  }
  const recent: number[] = [];
  /** MORI's answer over the plan's limit: 429 RATE_LIMIT_EXCEEDED, no Retry-After (docs/mori-api.md). */
  function overLimit(): boolean {
    if (!opts.rateLimit) return false;
    const now = Date.now();
    while (recent.length > 0 && recent[0]! <= now - opts.rateLimit.windowMs) recent.shift();
    if (recent.length >= opts.rateLimit.max) return true;
    recent.push(now);
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock-mori');
    // One line per request, once it is answered (or cut off): what the worker and the CLI ask, and
    // what they get. The path only: a download's query string is its presigned signature.
    let detail = '';
    const note = (text: string) => {
      detail = ` (${text})`;
    };
    res.once('close', () => {
      if (url.pathname !== '/healthz')
        log(`${req.method} ${url.pathname} → ${res.writableFinished ? res.statusCode : 'cut off'}${detail}`);
    });
    if (opts.clockSkewMs) res.setHeader('date', new Date(Date.now() + opts.clockSkewMs).toUTCString());
    const orderMatch = /^\/api\/(v2|v3)\/orders\/([^/]+)$/.exec(url.pathname);
    const lookedUp = req.method === 'GET' && orderMatch && orderMatch[2] !== 'webhooks';
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '/',
      orderId: lookedUp ? safeDecode(orderMatch[2]!) : '',
      authorization: req.headers.authorization,
      at: Date.now(),
    });
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      const auth = req.headers.authorization ?? '';
      const authorized = auth.startsWith('Bearer ') && (token === undefined || auth === `Bearer ${token}`);
      if (url.pathname.startsWith('/api/') && !authorized)
        return moriError(res, 401, 'UNAUTHORIZED', 'Invalid or missing API token');

      if (url.pathname.startsWith('/api/')) {
        stats.requests += 1;
        if (overLimit()) {
          stats.rateLimited += 1;
          note('RATE_LIMIT_EXCEEDED');
          return json(res, 429, { code: 'RATE_LIMIT_EXCEEDED' });
        }
      }
      if (req.method === 'GET' && url.pathname === '/api/v2/orders') {
        // Most recent first, as MORI lists them; `limit` 1-100 (docs/mori-api.md, "Reading orders").
        const { page, limit } = pageOf(url);
        const channel = url.searchParams.get('channel') ?? 'all';
        const rows = [...orders.values()]
          .filter(() => channel === 'all' || channel === 'api')
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.orderId.localeCompare(a.orderId))
          .map((sim) => listRow(track(sim.orderId)));
        note(`page ${page}: ${rows.length} orders in all`);
        return json(res, 200, {
          data: {
            orders: rows.slice((page - 1) * limit, page * limit),
            pageInfo: {
              totalItems: rows.length,
              totalPages: Math.ceil(rows.length / limit),
              currentPage: page,
              itemsPerPage: limit,
            },
          },
        });
      }
      const fileMatch = /^\/files\/(\d+)\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && fileMatch) {
        if (!url.searchParams.get('X-Amz-Signature')) return moriError(res, 403, 'AccessDenied', 'not a presigned URL');
        return serveFile(res, fileMatch[2]!);
      }
      const downloadMatch = /^\/api\/v3\/orders\/(\d+)\/download$/.exec(url.pathname);
      if (req.method === 'GET' && downloadMatch) {
        // The order of MORI's checks (docs/mori-api.md, "Reading orders").
        const id = downloadMatch[1]!;
        if (!orders.has(id)) return moriError(res, 404, 'ORDER_NOT_FOUND', 'Order not found');
        const sim = track(id);
        if (!isDownloadable(sim.type)) return moriError(res, 400, 'ORDER_TYPE_CANT_DOWNLOAD', 'No files');
        if (sim.status !== 'complete') return moriError(res, 400, 'ORDER_NOT_COMPLETED', 'Not completed');
        const base = `http://${req.headers.host ?? '127.0.0.1'}`;
        const result = render(sim).result as { outputFiles: { fileId: string }[] };
        const sign = () => `X-Amz-Expires=3600&X-Amz-Signature=${randomBytes(8).toString('hex')}`;
        note(`${result.outputFiles.length} file(s)`);
        return json(res, 200, {
          data: {
            archiveUrl: `${base}/files/${id}/0?${sign()}`,
            files: result.outputFiles.map((f) => ({
              fileId: f.fileId,
              downloadUrl: `${base}/files/${id}/${f.fileId}?${sign()}`,
            })),
            expiresInSeconds: 3600,
          },
        });
      }
      if (lookedUp) {
        const id = safeDecode(orderMatch[2]!);
        const step = scripts.get(id)?.shift();
        if (step?.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
        if (res.destroyed) return;
        if (step && 'order' in step) {
          note('scripted');
          return json(res, 200, { data: step.order }, step.headers);
        }
        if (step && 'status' in step) {
          note('scripted');
          const body = step.body ?? { success: false, message: 'scripted failure', code: `HTTP_${step.status}` };
          return json(res, step.status, body, {
            ...(step.retryAfter ? { 'retry-after': step.retryAfter } : {}),
            ...step.headers,
          });
        }
        const fixed = fixedOrders.get(id);
        if (fixed) return json(res, 200, { data: fixed });
        if (!ORDER_ID_PATTERN.test(id)) return moriError(res, 400, 'VALIDATION_FAILED', 'Invalid order id');
        if (opts.unknownOrders === 'not-found' && !orders.has(id))
          return moriError(res, 404, 'ORDER_NOT_FOUND', 'Order not found');
        const sim = track(id);
        note(`${sim.type} ${sim.status}`);
        return json(res, 200, { data: render(sim, orderMatch[1] as 'v2' | 'v3') });
      }
      if (req.method === 'GET' && url.pathname === '/api/v2/orders/webhooks') {
        const list = webhooks.map(({ id, name, url: u, isTest, lastSentAt }) => ({
          id,
          name,
          url: u,
          isActive: true,
          isTest,
          lastSentAt,
        }));
        return json(res, 200, {
          data: { webhooks: list, pagination: { page: 1, limit: list.length, total: list.length, totalPages: 1 } },
        });
      }
      const hookMatch = /^\/api\/v2\/orders\/webhooks\/(\d+)(\/events(?:\/retry-failed)?)?$/.exec(url.pathname);
      const hook = hookMatch ? webhooks.find((h) => h.id === Number(hookMatch[1])) : undefined;
      if (hookMatch && !hook) return moriError(res, 404, 'WEBHOOK_NOT_FOUND', 'Webhook not found');
      if (hook && req.method === 'DELETE' && !hookMatch?.[2]) {
        webhooks.splice(webhooks.indexOf(hook), 1);
        return json(res, 200, { data: { id: hook.id } });
      }
      if (hook && req.method === 'GET' && hookMatch?.[2] === '/events') {
        const { page, limit } = pageOf(url);
        const events = hook.events.slice((page - 1) * limit, page * limit).map(({ body: _body, ...e }) => e);
        const total = hook.events.length;
        return json(res, 200, {
          data: { events, pagination: { page, limit, total, totalPages: Math.ceil(total / limit) } },
        });
      }
      if (hook && req.method === 'POST' && hookMatch?.[2] === '/events/retry-failed') {
        // Calendar dates at most 7 days apart; at most 50 resent per call (docs/mori-api.md, "Webhooks").
        const body = await readJson(req);
        const from = Date.parse(`${String(body.fromDate)}T00:00:00.000Z`);
        const to = Date.parse(`${String(body.toDate)}T00:00:00.000Z`);
        if (Number.isNaN(from) || Number.isNaN(to) || to < from || to - from > 7 * 86_400_000) {
          return moriError(res, 422, 'VALIDATION_FAILED', 'fromDate and toDate must be dates at most 7 days apart');
        }
        const failed = hook.events.filter(
          (e) => e.status === 'FAILED' && Date.parse(e.createdAt) >= from && Date.parse(e.createdAt) < to + 86_400_000,
        );
        let succeeded = 0;
        for (const entry of failed.slice(0, 50)) {
          entry.retries += 1;
          if (await send(hook, entry)) {
            entry.status = 'SENT';
            succeeded += 1;
          }
        }
        const resent = Math.min(50, failed.length);
        note(
          `${String(body.fromDate)}..${String(body.toDate)}: ${failed.length} failed, resent ${resent}, ${succeeded} delivered`,
        );
        return json(res, 200, { data: { total: failed.length, succeeded, failed: resent - succeeded } });
      }
      if (req.method === 'POST' && url.pathname === '/api/v2/orders/webhooks') {
        const body = await readJson(req);
        if (typeof body.url !== 'string') return moriError(res, 400, 'INVALID_INPUT', 'url is required');
        const secret = `whsec_${randomBytes(24).toString('base64url')}`;
        const hook = register(
          { url: body.url, secret },
          typeof body.name === 'string' ? body.name : 'webhook',
          body.isTest === true,
        );
        note(`registered webhook ${hook.id} → ${hook.url}`);
        return json(res, 200, {
          data: { id: hook.id, name: hook.name, secret, isTest: hook.isTest },
        });
      }
      if (req.method === 'POST' && url.pathname === '/simulate/orders') {
        const body = await readJson(req);
        const type = (ORDER_TYPES as readonly string[]).includes(String(body.type))
          ? (body.type as OrderType)
          : undefined;
        const outcome = typeof body.fileName === 'string' ? outcomeForFileName(body.fileName) : {};
        return json(res, 201, {
          data: createOrder(type, body.failed === true ? { ...outcome, failed: true } : outcome),
        });
      }
      return moriError(res, 404, 'NOT_FOUND', 'Not found');
    } catch (err) {
      return moriError(res, 400, 'BAD_REQUEST', (err as Error).message);
    }
  }
  // handle() answers every error itself, so nothing it returns can reject unheard.
  const server = createServer((req, res) => void handle(req, res));

  return {
    server,
    createOrder,
    stats,
    setOrder: (order) => fixedOrders.set(String(order.orderId), order),
    script: (orderId, answers) => scripts.set(orderId, [...(scripts.get(orderId) ?? []), ...answers]),
    setToken: (t) => {
      token = t;
    },
    requests,
    requestsFor: (orderId) => requests.filter((r) => r.orderId === orderId),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function mockMori(ctx: CliContext, signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      'finish-after': { type: 'string', default: '2' },
      'webhook-url': { type: 'string' },
      secret: { type: 'string' },
      'create-every': { type: 'string' },
      plan: { type: 'string' },
      type: { type: 'string' },
      failed: { type: 'boolean', default: false },
    },
  });
  const type = values.type;
  if (type !== undefined && !(ORDER_TYPES as readonly string[]).includes(type))
    throw new UsageError(`--type must be one of ${ORDER_TYPES.join(', ')}`);
  if ((type !== undefined || values.failed) && !values['create-every'])
    throw new UsageError('--type and --failed apply to the orders --create-every creates');
  const plan = values.plan;
  if (plan !== undefined && !(plan in PLAN_LIMITS_PER_MINUTE))
    throw new UsageError(`--plan must be one of ${Object.keys(PLAN_LIMITS_PER_MINUTE).join(', ')}`);
  if (values['webhook-url'] && !values.secret)
    throw new UsageError('--webhook-url needs --secret (the secret the receiver verifies with)');
  const finishAfter = Number(values['finish-after']);
  if (!Number.isFinite(finishAfter) || finishAfter < 0)
    throw new UsageError('--finish-after must be a number of seconds');
  const every = Number(values['create-every']);
  if (values['create-every'] !== undefined && !(Number.isFinite(every) && every > 0))
    throw new UsageError('--create-every must be a number of seconds above 0');
  const sim = createMockMori({
    token: values.token,
    finishAfterMs: finishAfter * 1000,
    ...(plan ? { rateLimit: { max: PLAN_LIMITS_PER_MINUTE[plan as MoriPlan], windowMs: 60_000 } } : {}),
    webhooks: values['webhook-url'] && values.secret ? [{ url: values['webhook-url'], secret: values.secret }] : [],
    // A time on each line, so the worker's look-ups and their spacing show.
    log: (line) => ctx.out(`${new Date().toISOString().slice(11, 23)} ${line}`),
  });
  await new Promise<void>((resolve) => sim.server.listen(Number(values.port), values.host, resolve));
  ctx.out(`mock MORI listening on http://${values.host}:${values.port} (set MORI_API_BASE_URL to it)`);
  let interval: NodeJS.Timeout | undefined;
  if (values['create-every'] !== undefined)
    interval = setInterval(
      () => sim.createOrder(type as OrderType | undefined, values.failed ? { failed: true } : {}),
      every * 1000,
    );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(interval);
  await sim.close();
  return 0;
}
