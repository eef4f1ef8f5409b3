import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSampleOrder, type OrderType } from '../../src/cli/sample-orders.js';

/**
 * A fake MORI API: a real HTTP server on 127.0.0.1 and a free port, playing
 * GET /api/v3/orders/{id} and /api/v2/orders/{id} (same body). Each order has a script: responses consumed one per request, then a
 * default (the order as set with setOrder, or 404). Every request is recorded.
 *
 *   const mori = await startFakeMori();
 *   mori.setOrder(order);                                   // served as {"data": order}
 *   mori.script(order.orderId, [{ status: 503 }, { status: 429, retryAfter: '1' }]);
 *   mori.script(order.orderId, [{ order: { ...order, status: 'inProgress' } }]);
 *   mori.script(order.orderId, [{ delayMs: 2000 }]);          // then the default
 */
type FakeResponse =
  | { status: number; body?: unknown; retryAfter?: string; delayMs?: number; headers?: Record<string, string> }
  | { order: Record<string, unknown>; delayMs?: number; headers?: Record<string, string> }
  | { delayMs: number };

interface RecordedRequest {
  method: string;
  path: string;
  orderId: string;
  authorization: string | undefined;
  at: number;
}

export interface FakeMori {
  url: string;
  token: string;
  setOrder(order: Record<string, unknown>): void;
  script(orderId: string, responses: FakeResponse[]): void;
  /** Accept a different bearer token from now on (to "fix" a misconfigured token). */
  setToken(token: string): void;
  requests: RecordedRequest[];
  requestsFor(orderId: string): RecordedRequest[];
  close(): Promise<void>;
}

function moriError(code: string, message: string) {
  return { success: false, message, code, errors: { message, propertyName: null } };
}

export async function startFakeMori({ token = 'test-mori-token' } = {}): Promise<FakeMori> {
  let accepted = token;
  const orders = new Map<string, Record<string, unknown>>();
  const scripts = new Map<string, FakeResponse[]>();
  const requests: RecordedRequest[] = [];
  const send = (
    res: import('node:http').ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  async function handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<unknown> {
    const path = req.url ?? '/';
    const match = /^\/api\/v[23]\/orders\/([^/?]+)$/.exec(path);
    const orderId = match ? decodeURIComponent(match[1]!) : '';
    requests.push({
      method: req.method ?? '',
      path,
      orderId,
      authorization: req.headers.authorization,
      at: Date.now(),
    });
    if (req.headers.authorization !== `Bearer ${accepted}`)
      return send(res, 401, moriError('UNAUTHORIZED', 'Invalid API token'));
    if (req.method !== 'GET' || !match) return send(res, 404, moriError('NOT_FOUND', 'Not found'));

    const step = scripts.get(orderId)?.shift();
    if (step?.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (res.destroyed) return;
    if (step && 'order' in step) return send(res, 200, { data: step.order }, step.headers);
    if (step && 'status' in step) {
      return send(res, step.status, step.body ?? moriError(`HTTP_${step.status}`, 'scripted failure'), {
        ...(step.retryAfter ? { 'retry-after': step.retryAfter } : {}),
        ...step.headers,
      });
    }
    const order = orders.get(orderId);
    if (!order) return send(res, 404, moriError('ORDER_NOT_FOUND', 'Order not found'));
    return send(res, 200, { data: order });
  }
  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    setOrder: (order) => orders.set(String(order.orderId), order),
    script: (orderId, responses) => scripts.set(orderId, [...(scripts.get(orderId) ?? []), ...responses]),
    setToken: (t) => {
      accepted = t;
    },
    requests,
    requestsFor: (orderId) => requests.filter((r) => r.orderId === orderId),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A final order of the given type, as MORI serves it, with every type-specific field. */
export function finalOrder(
  orderId: string,
  type: OrderType = 'antiAi',
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...buildSampleOrder(orderId, {
      type,
      status: 'complete',
      updatedAt: new Date('2026-03-12T10:05:00.000Z'),
      createdAt: new Date('2026-03-12T10:00:00.000Z'),
    }),
    ...overrides,
  };
}
