import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MoriApiError, createMoriClient, type MoriClient } from '../../src/mori/mori-client.js';
import { createHttpSink, type HttpSinkConfig } from '../../src/sinks/http-sink.js';
import { sinkConfigSchema } from '../../src/sinks/sink-config.js';
import { SinkError, type Sink } from '../../src/sinks/sink.js';
import { buildEnvelope } from '../../src/worker/envelope.js';
import { finalOrder } from '../helpers/fake-mori.js';
import {
  selfSignedCertificate,
  startDualProtocolServer,
  startFaultyServer,
  type Fault,
  type FaultyServer,
} from '../helpers/faulty-server.js';
import getPort from 'get-port';
import { rejectionOf } from '../helpers/rejection-of.js';

const ORDER_ID = '1234567890123456789';
const orderBody = JSON.stringify({ data: finalOrder(ORDER_ID) });
const envelope = buildEnvelope({
  deliveryId: 'dlv_00000000000000000000000000000001',
  order: finalOrder(ORDER_ID),
  event: {
    eventId: 'e-1',
    eventType: 'order.antiAi.completed',
    occurredAt: null,
    receivedAt: '2026-03-12T10:05:01.000Z',
  },
});

let server: FaultyServer | undefined;
let client: MoriClient | undefined;
let sink: Sink | undefined;
afterEach(async () => {
  await client?.close();
  await sink?.close();
  await server?.close();
  client = sink = server = undefined;
});

function mori(url: string, extra: Partial<Parameters<typeof createMoriClient>[0]> = {}): MoriClient {
  return createMoriClient({ baseUrl: url, token: 't', timeoutMs: 400, ...extra });
}

function httpSink(definition: Record<string, unknown>, connect?: Parameters<typeof createHttpSink>[1]): Sink {
  return createHttpSink(
    sinkConfigSchema.parse({ type: 'http', name: 'crm', timeoutMs: 400, ...definition }) as HttpSinkConfig,
    connect,
  );
}

describe('the MORI client classifies every way a request can fail, against a real server', () => {
  it.each<[string, Fault, string]>([
    ['stalls before its headers', { kind: 'stall-headers' }, 'timed out after 400 ms'],
    ['stalls in the middle of its body', { kind: 'stall-body' }, 'timed out after 400 ms'],
    ['resets the connection', { kind: 'reset' }, 'failed: reset'],
  ])('a server that %s is a retryable failure', async (_, fault, message) => {
    server = await startFaultyServer(fault);
    client = mori(server.url);
    const err = await rejectionOf(client.getOrder(ORDER_ID, 'lookup'), MoriApiError);
    expect(err.kind).toBe('retryable');
    expect(err.failure).toBe(message.includes('timed out') ? 'timeout' : 'reset');
    expect(err.message).toContain(message);
  });

  it('a refused connection is a retryable failure', async () => {
    client = mori(`http://127.0.0.1:${await getPort()}`);
    const err = await rejectionOf(client.getOrder(ORDER_ID, 'lookup'), MoriApiError);
    expect(err).toMatchObject({ kind: 'retryable', failure: 'refused' });
  });

  it('stops reading an answer over 1 MiB and calls it an invalid response, not a retry', async () => {
    server = await startFaultyServer({ kind: 'huge-body', bytes: 8 * 1024 * 1024 });
    client = mori(server.url, { timeoutMs: 5000 });
    const err = await rejectionOf(client.getOrder(ORDER_ID, 'lookup'), MoriApiError);
    expect(err.kind).toBe('invalid-response');
    expect(err.message).toContain('larger than 1048576 bytes');
  });
});

describe('HTTP/2 (undici 8 offers it by default over TLS)', () => {
  let tls: { key: string; cert: string };
  beforeAll(() => {
    tls = selfSignedCertificate();
  });

  it('the MORI client speaks HTTP/1.1 to a server that offers both', async () => {
    server = await startDualProtocolServer(tls, { kind: 'ok', body: orderBody });
    client = mori(server.url, { connect: { ca: tls.cert } });
    await expect(client.getOrder(ORDER_ID, 'lookup')).resolves.toMatchObject({ orderId: ORDER_ID });
    expect(server.versions).toEqual(['1.1']);
  });

  it('an http sink speaks HTTP/1.1 unless its definition asks for HTTP/2', async () => {
    server = await startDualProtocolServer(tls, { kind: 'ok', body: '{}' });
    sink = httpSink({ url: server.url }, { ca: tls.cert });
    await sink.deliver(envelope);
    await sink.close();
    sink = httpSink({ url: server.url, http2: true }, { ca: tls.cert });
    await sink.deliver(envelope);
    expect(server.versions).toEqual(['1.1', '2.0']);
  });

  it.each([false, true])(
    'an http sink (http2: %s) drains at most 64 KiB of an 8 MiB answer and succeeds',
    async (http2) => {
      server = await startDualProtocolServer(tls, { kind: 'huge-body', bytes: 8 * 1024 * 1024 });
      sink = httpSink({ url: server.url, http2, timeoutMs: 5000 }, { ca: tls.cert });
      const before = process.memoryUsage().arrayBuffers;
      await sink.deliver(envelope);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * 1024 * 1024);
    },
  );

  it('an http sink over HTTP/2 classifies a stalled receiver as a timeout', async () => {
    server = await startDualProtocolServer(tls, { kind: 'stall-headers' });
    sink = httpSink({ url: server.url, http2: true }, { ca: tls.cert });
    expect((await rejectionOf(sink.deliver(envelope), SinkError)).message).toContain('timed out after 400 ms');
  });
});

describe('the http sink classifies failures like the MORI client', () => {
  it.each<[string, Fault, string]>([
    ['stalls before its headers', { kind: 'stall-headers' }, 'timed out after 400 ms'],
    ['resets the connection', { kind: 'reset' }, 'failed: reset'],
  ])('a receiver that %s', async (_, fault, message) => {
    server = await startFaultyServer(fault);
    sink = httpSink({ url: server.url });
    expect((await rejectionOf(sink.deliver(envelope), SinkError)).message).toContain(message);
  });

  it('a refused connection', async () => {
    sink = httpSink({ url: `http://127.0.0.1:${await getPort()}` });
    expect((await rejectionOf(sink.deliver(envelope), SinkError)).message).toContain('failed: refused (ECONNREFUSED)');
  });
});
