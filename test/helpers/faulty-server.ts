import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How a server misbehaves, one request at a time:
 * - `stall-headers`: reads the request and never answers;
 * - `stall-body`: sends 200 headers and half a body, then goes silent;
 * - `reset`: reads the request, then resets the TCP connection;
 * - `huge-body`: answers 200 with `bytes` of JSON-looking filler;
 * - `ok`: answers 200 with `body`.
 */
export type Fault =
  | { kind: 'stall-headers' }
  | { kind: 'stall-body' }
  | { kind: 'reset' }
  | { kind: 'huge-body'; bytes: number }
  | { kind: 'ok'; body: string };

export interface FaultyServer {
  url: string;
  /** The HTTP version of each request received ('1.1', '2.0'). */
  versions: string[];
  setFault(fault: Fault): void;
  close(): Promise<void>;
}

/** Http2ServerResponse offers the same writeHead/write/end as ServerResponse (its compatibility API). */
function respond(fault: Fault, req: IncomingMessage | Http2ServerRequest, res: ServerResponse): void {
  req.resume();
  switch (fault.kind) {
    case 'stall-headers':
      return;
    case 'stall-body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"data":{"orderId":');
      return;
    case 'reset':
      req.socket.resetAndDestroy?.();
      return;
    case 'huge-body': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = fault.bytes;
      const pump = () => {
        while (left > 0) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      return pump();
    }
    case 'ok':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fault.body);
  }
}

async function listen(
  server: Server | Http2SecureServer,
  scheme: 'http' | 'https',
  sockets: Set<Socket>,
  fault: { current: Fault },
  versions: string[],
): Promise<FaultyServer> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    versions,
    setFault: (f) => {
      fault.current = f;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A plain HTTP/1.1 server on 127.0.0.1 that fails the way it is told to. */
export function startFaultyServer(initial: Fault = { kind: 'stall-headers' }): Promise<FaultyServer> {
  const fault = { current: initial };
  const versions: string[] = [];
  const server = createServer((req, res) => {
    versions.push(req.httpVersion);
    respond(fault.current, req, res);
  });
  return listen(server, 'http', new Set(), fault, versions);
}

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mori-test-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A TLS server that speaks HTTP/2 and HTTP/1.1 (ALPN picks), as most load balancers in front of
 * an API or a customer's webhook receiver do.
 */
export function startDualProtocolServer(tls: { key: string; cert: string }, initial: Fault): Promise<FaultyServer> {
  const fault = { current: initial };
  const versions: string[] = [];
  const server = createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion);
    respond(fault.current, req, res as unknown as ServerResponse);
  });
  return listen(server, 'https', new Set(), fault, versions);
}
