import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { ORDER_ID_PATTERN } from '../webhook/event-schema.js';
import { ORDER_TYPES } from '../sinks/sink-config.js';
import { UsageError, type CliContext } from './io.js';
import { buildSampleEvent, buildSampleOrder, orderTypeFor, randomOrderId, type OrderType } from './sample-orders.js';

export const MOCK_MORI_HELP = `mock-mori [--port 4010] [--host 127.0.0.1] [--token T] [--finish-after SECONDS]
          [--webhook-url URL --secret S] [--create-every SECONDS]
  A local MORI API simulator. Serves GET /api/v2/orders/{id} for any id (type chosen from the id,
  inProgress until --finish-after seconds after first seen, then complete), and
  POST /api/v2/orders/webhooks to register a webhook (answers a new whsec_ secret once).
  POST /simulate/orders {"type":"aiDetection","failed":false} creates an order; when it finishes,
  the simulator sends the signed event to every registered webhook and to --webhook-url, retrying
  like MORI (after 1, 2 and 4 s). --create-every creates one order every N seconds (the demo).`;

/** MORI's documented retry schedule after a failed delivery: ~1 s, 2 s, 4 s (CONTRACT.md A). */
const MORI_RETRY_DELAYS_MS = [1000, 2000, 4000];

interface SimOrder {
  order: Record<string, unknown>;
  finishesAt: number;
  failed: boolean;
  announced: boolean;
}

interface Webhook {
  url: string;
  secret: string;
}

export interface MockMoriOptions {
  token?: string;
  finishAfterMs: number;
  webhooks?: Webhook[];
  log?: (line: string) => void;
}

export interface MockMori {
  server: Server;
  createOrder(type?: OrderType, failed?: boolean): Record<string, unknown>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function moriError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { success: false, message, code, errors: { message, propertyName: null } });
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
  const webhooks: Webhook[] = [...(opts.webhooks ?? [])];
  const timers = new Set<NodeJS.Timeout>();
  const log = opts.log ?? (() => undefined);

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  async function deliver(hook: Webhook, body: string, attempt = 0): Promise<void> {
    const signature = createHmac('sha256', hook.secret).update(body).digest('hex');
    let status = 0;
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
    log(`webhook → ${hook.url}: ${status || 'no answer'} (attempt ${attempt + 1})`);
    const delay = MORI_RETRY_DELAYS_MS[attempt];
    if ((status < 200 || status >= 300) && delay !== undefined) later(delay, () => void deliver(hook, body, attempt + 1));
  }

  function track(orderId: string, type?: OrderType, failed = false): SimOrder {
    let sim = orders.get(orderId);
    if (!sim) {
      const createdAt = new Date();
      sim = {
        order: buildSampleOrder(orderId, { type: type ?? orderTypeFor(orderId), status: 'inProgress', createdAt, updatedAt: createdAt }),
        finishesAt: Date.now() + opts.finishAfterMs,
        failed,
        announced: false,
      };
      orders.set(orderId, sim);
    }
    return sim;
  }

  function current(sim: SimOrder): Record<string, unknown> {
    if (sim.order.status === 'inProgress' && Date.now() >= sim.finishesAt) {
      sim.order = buildSampleOrder(String(sim.order.orderId), {
        type: sim.order.type as OrderType,
        status: sim.failed ? 'failed' : 'complete',
        createdAt: new Date(String(sim.order.createdAt)),
        updatedAt: new Date(sim.finishesAt),
      });
    }
    return sim.order;
  }

  function announceWhenFinished(sim: SimOrder): void {
    later(Math.max(0, sim.finishesAt - Date.now()), () => {
      if (sim.announced) return;
      sim.announced = true;
      const body = JSON.stringify(buildSampleEvent(current(sim)));
      for (const hook of webhooks) void deliver(hook, body);
    });
  }

  const createOrder = (type?: OrderType, failed = false) => {
    const sim = track(randomOrderId(), type, failed);
    announceWhenFinished(sim);
    log(`order ${String(sim.order.orderId)} (${String(sim.order.type)}) created; finishes in ${opts.finishAfterMs} ms`);
    return sim.order;
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://mock-mori');
      const auth = req.headers.authorization ?? '';
      const authorized = auth.startsWith('Bearer ') && (opts.token === undefined || auth === `Bearer ${opts.token}`);
      if (url.pathname.startsWith('/api/') && !authorized) return moriError(res, 401, 'UNAUTHORIZED', 'Invalid or missing API token');

      const orderMatch = /^\/api\/v2\/orders\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && orderMatch) {
        const id = decodeURIComponent(orderMatch[1] ?? '');
        if (!ORDER_ID_PATTERN.test(id)) return moriError(res, 400, 'INVALID_ORDER_ID', 'Invalid order id');
        return json(res, 200, { data: current(track(id)) });
      }
      if (req.method === 'POST' && url.pathname === '/api/v2/orders/webhooks') {
        const body = await readJson(req);
        if (typeof body.url !== 'string') return moriError(res, 400, 'INVALID_INPUT', 'url is required');
        const secret = `whsec_${randomBytes(24).toString('base64url')}`;
        webhooks.push({ url: body.url, secret });
        return json(res, 200, { data: { id: webhooks.length, name: String(body.name ?? 'webhook'), secret } });
      }
      if (req.method === 'POST' && url.pathname === '/simulate/orders') {
        const body = await readJson(req);
        const type = (ORDER_TYPES as readonly string[]).includes(String(body.type)) ? (body.type as OrderType) : undefined;
        return json(res, 201, { data: createOrder(type, body.failed === true) });
      }
      return moriError(res, 404, 'NOT_FOUND', 'Not found');
    } catch (err) {
      return moriError(res, 400, 'BAD_REQUEST', (err as Error).message);
    }
  });

  return {
    server,
    createOrder,
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
    },
  });
  if (values['webhook-url'] && !values.secret) throw new UsageError('--webhook-url needs --secret (the secret the receiver verifies with)');
  const finishAfter = Number(values['finish-after']);
  if (!Number.isFinite(finishAfter) || finishAfter < 0) throw new UsageError('--finish-after must be a number of seconds');
  const sim = createMockMori({
    token: values.token,
    finishAfterMs: finishAfter * 1000,
    webhooks: values['webhook-url'] && values.secret ? [{ url: values['webhook-url'], secret: values.secret }] : [],
    log: ctx.out,
  });
  await new Promise<void>((resolve) => sim.server.listen(Number(values.port), values.host, resolve));
  ctx.out(`mock MORI listening on http://${values.host}:${values.port} (set MORI_API_BASE_URL to it)`);
  let interval: NodeJS.Timeout | undefined;
  if (values['create-every']) interval = setInterval(() => sim.createOrder(), Number(values['create-every']) * 1000);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(interval);
  await sim.close();
  return 0;
}
