import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP/JSON attribute value, flattened to what the tests compare. */
type Value = string | number | boolean | null | Value[];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, Value>;
  events: { name: string; attributes: Record<string, Value> }[];
  status: { code?: number; message?: string };
  /** The attributes of the resource that sent it (service.name, mori.role, ...). */
  resource: Record<string, Value>;
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: the exporter appends /v1/traces. */
  url: string;
  spans: ReceivedSpan[];
  /** Every request body as it arrived, to search for what must never be exported. */
  bodies: string[];
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

function valueOf(v: Record<string, unknown> | undefined): Value {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  if ('arrayValue' in v) {
    return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(valueOf);
  }
  return JSON.stringify(v);
}

const attributesOf = (list: KeyValue[] | undefined): Record<string, Value> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/**
 * A real OTLP/HTTP collector for the JSON protocol (OTEL_EXPORTER_OTLP_PROTOCOL=http/json): accepts
 * POST /v1/traces on 127.0.0.1 and a free port and keeps every span, with its resource.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !/json/.test(req.headers['content-type'] ?? '')) {
      res.writeHead(404).end();
      return;
    }
    bodies.push(body);
    const parsed = JSON.parse(body) as {
      resourceSpans?: {
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: {
          spans?: (Omit<ReceivedSpan, 'attributes' | 'events' | 'resource'> & {
            attributes?: KeyValue[];
            events?: { name: string; attributes?: KeyValue[] }[];
          })[];
        }[];
      }[];
    };
    for (const rs of parsed.resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attributes: attributesOf(s.attributes),
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
            status: s.status ?? {},
            resource,
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }
  // A body that is not JSON fails the request, which the exporter reports; the test then times out naming it.
  const server = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(400).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
