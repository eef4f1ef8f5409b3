import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server standing in for an http sink's receiver. Records every request; answers from
 * a script of responses consumed one per request (then 200).
 */
interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  json: unknown;
  at: number;
}

type CaptureResponse = { status: number; retryAfter?: string; location?: string; delayMs?: number };

export interface CaptureServer {
  url: string;
  requests: CapturedRequest[];
  script(responses: CaptureResponse[]): void;
  /** Drops the responses not used yet: from now on every request gets 200. */
  clearScript(): void;
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const queue: CaptureResponse[] = [];
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
      ),
      body,
      json,
      at: Date.now(),
    });
    const step = queue.shift() ?? { status: 200 };
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (res.destroyed) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (step.retryAfter) headers['retry-after'] = step.retryAfter;
    if (step.location) headers.location = step.location;
    res.writeHead(step.status, headers).end(JSON.stringify({ ok: step.status < 300 }));
  }
  // A request that breaks off mid-body just ends its socket.
  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/mori`,
    requests,
    script: (responses) => queue.push(...responses),
    clearScript: () => {
      queue.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
