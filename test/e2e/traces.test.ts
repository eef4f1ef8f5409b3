import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { startCaptureServer } from '../helpers/capture-server.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeMori } from '../helpers/fake-mori.js';
import { moriSign } from '../helpers/mori-signer.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const WEBHOOK_SECRET = 'whsec_tracesTestSecretAAAAAAAAAAAAAAAA';
const MORI_TOKEN = 'sk_test_traces_token_0123456789';
const HTTP_SINK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** Secrets a sink's URL and headers carry: neither may reach a span. */
const SINK_URL_TOKEN = 'sink-url-token-4f1c9e';
const SINK_HEADER_TOKEN = 'sink-header-token-77ab20';
const RECORD_OTEL_IMPORTS = `--import=${pathToFileURL(join(import.meta.dirname, '../fixtures/processes/report-otel-imports.mjs')).href}`;

async function service(env: Record<string, string>): Promise<ServiceProcess> {
  const s = await startService(env);
  onTestFinished(async () => {
    s.child.kill('SIGTERM');
    await s.exited;
  });
  return s;
}

/** Short batches so spans reach the receiver within a fraction of a second (the SDK's default is 5 s). */
const otelEnv = (endpoint: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

/**
 * The OpenTelemetry modules a process loaded, except the API: prom-client loads
 * `@opentelemetry/api` for its exemplars whatever we do, and without an SDK it is a no-op.
 */
const otelLoaded = (output: string): string[] =>
  [...output.matchAll(/^otel module loaded: (.*)$/gm)]
    .map((m) => m[1]!)
    .filter((u) => !u.includes('/@opentelemetry/api/'));

const withName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

describe('OpenTelemetry traces across an api process and a worker process', () => {
  it('connect one webhook to every delivery under one trace id, and hold no secret', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix();
    onTestFinished(() => deleteKeysWithPrefix(redisUrl, prefix));
    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    const mori = await startFakeMori({ token: MORI_TOKEN, fileBytes: 1024 });
    const capture = await startCaptureServer();
    onTestFinished(() => capture.close());
    const dir = tempDir('traces-');

    const shared = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, ...otelEnv(receiver.url) };
    const api = await service({
      ...shared,
      ROLE: 'api',
      MORI_WEBHOOK_SECRET: WEBHOOK_SECRET,
      NODE_OPTIONS: RECORD_OTEL_IMPORTS,
    });
    await service({
      ...shared,
      ROLE: 'worker',
      // No reconciler: its start-up sweep lists the order this test creates and can queue its own
      // look-up before the worker has promoted the webhook's intake entry, and then the delivery
      // (once, by the ledger) belongs to the sweep's trace instead of the webhook's.
      RECONCILE_INTERVAL_MS: '0',
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: MORI_TOKEN,
      SINKS: JSON.stringify([
        {
          type: 'http',
          name: 'crm',
          url: `${capture.url}/hooks?token=${SINK_URL_TOKEN}`,
          headers: { authorization: `Bearer ${SINK_HEADER_TOKEN}` },
          secret: HTTP_SINK_SECRET,
          timeoutMs: 2000,
        },
        { type: 'archive', name: 'vault', dir },
      ]),
    });

    // A forged webhook is traced too, with why it was refused.
    const forged = await fetch(`${api.url}/webhooks/mori`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moribiz-signature': 'ab'.repeat(32) },
      body: JSON.stringify({ eventId: 'evt-forged' }),
    });
    expect(forged.status).toBe(401);

    const order = mori.createOrder('watermarkEmbed', { files: 2 });
    const orderId = String(order.orderId);
    const body = JSON.stringify(buildSampleEvent(order, 'current', 'evt-traced'));
    const signature = moriSign(body, WEBHOOK_SECRET);
    const res = await fetch(`${api.url}/webhooks/mori`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moribiz-signature': signature },
      body,
    });
    expect(res.status).toBe(200);
    expect(otelLoaded(api.output())).toContainEqual(expect.stringContaining('/@opentelemetry/sdk-node/'));

    // The http sink passes the trace on to its receiver.
    const delivered = await eventually(() => capture.requests[0], {
      timeoutMs: 20_000,
      what: 'the http sink delivery',
    });
    const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(delivered.headers.traceparent ?? '');
    expect(traceparent, `traceparent: ${delivered.headers.traceparent}`).not.toBeNull();
    const [, traceId, sinkCallSpanId] = traceparent!;
    await eventually(() => existsSync(join(dir, orderId, 'manifest.json')), { what: 'the archive delivery' });

    const trace = await eventually(
      () => {
        const spans = receiver.spans.filter((s) => s.traceId === traceId);
        // Each process exports on its own schedule: wait for both ends and everything between.
        const names = new Set(spans.map((s) => s.name));
        const ids = new Set(spans.map((s) => s.spanId));
        const whole =
          ['request', 'process mori-events', 'deliver crm', 'deliver vault'].every((n) => names.has(n)) &&
          ids.has(sinkCallSpanId!) &&
          spans.every((s) => s.parentSpanId === '' || ids.has(s.parentSpanId));
        return whole ? spans : undefined;
      },
      { timeoutMs: 20_000, what: 'the spans of the whole trace to reach the receiver' },
    );
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    /** The names of the spans from `span` up to the root. */
    const ancestry = (span: ReceivedSpan): string[] => {
      const names: string[] = [];
      for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) names.push(s.name);
      return names;
    };

    // The webhook request, in the api process, is the root, with the event's ids and outcome.
    const [request] = withName(trace, 'request');
    expect(request).toBeDefined();
    expect(request!.parentSpanId).toBe('');
    expect(request!.resource).toMatchObject({ 'service.name': 'mori-webhook-receiver', 'mori.role': 'api' });
    expect(request!.attributes).toMatchObject({
      'mori.event_id': 'evt-traced',
      'mori.order_id': orderId,
      'mori.outcome': 'accepted',
      'http.route': '/webhooks/mori',
    });

    const refused = await eventually(
      () => receiver.spans.find((s) => s.name === 'request' && s.attributes['mori.outcome'] === 'rejected'),
      { what: "the forged webhook's request span" },
    );
    expect(refused.attributes).toMatchObject({
      'mori.rejection_code': 'SIGNATURE_INVALID',
      'http.response.status_code': 401,
    });
    expect(refused.traceId).not.toBe(traceId);

    // The fetch-order job, in the worker process, continues the same trace.
    const [fetchJob] = withName(trace, 'process mori-events');
    expect(fetchJob!.resource['mori.role']).toBe('worker');
    expect(fetchJob!.attributes).toMatchObject({
      'mori.event_id': 'evt-traced',
      'mori.order_id': orderId,
      'mori.outcome': 'final',
    });
    expect(ancestry(fetchJob!)).toContain('request');
    const [lookup] = trace.filter((s) => s.name === 'GET' && String(s.attributes['url.full']).includes('/orders/'));
    expect(ancestry(lookup!)[1]).toBe('process mori-events');

    // One span per sink delivery, each under its own deliver job, back to the webhook.
    for (const sink of ['crm', 'vault']) {
      const [span] = withName(trace, `deliver ${sink}`);
      expect(span!.attributes).toMatchObject({
        'mori.sink': sink,
        'mori.outcome': 'delivered',
        'mori.event_id': 'evt-traced',
        'mori.order_id': orderId,
      });
      expect(ancestry(span!)).toEqual(
        expect.arrayContaining(['process mori-deliveries', 'process mori-events', 'request']),
      );
      expect(ancestry(span!).at(-1)).toBe('request');
    }
    // The traceparent the sink's receiver got is the span of that very POST, under `deliver crm`.
    const sinkCall = byId.get(sinkCallSpanId!);
    expect(sinkCall?.name).toBe('POST');
    expect(ancestry(sinkCall!)[1]).toBe('deliver crm');
    // The archive's downloads are traced too: their presigned URLs are the ones to keep out.
    const downloads = trace.filter((s) => s.name === 'GET' && ancestry(s).includes('deliver vault'));
    expect(downloads.length).toBeGreaterThanOrEqual(2);

    // Nothing exported (spans, events, resources) holds a secret, a signature or a query string.
    const exported = receiver.bodies.join('\n');
    for (const secret of [
      WEBHOOK_SECRET,
      MORI_TOKEN,
      HTTP_SINK_SECRET,
      SINK_URL_TOKEN,
      SINK_HEADER_TOKEN,
      signature,
      delivered.headers['webhook-signature']!,
      'X-Amz-Signature',
      'X-Amz-Credential',
    ]) {
      expect(exported).not.toContain(secret);
    }
    const urlAttributes = receiver.spans.flatMap((s) =>
      Object.entries(s.attributes).filter(([k]) => k.startsWith('url.') || k === 'http.target'),
    );
    expect(urlAttributes.length).toBeGreaterThan(5);
    for (const [key, value] of urlAttributes) {
      if (key === 'url.query') expect(['', '[redacted]']).toContain(value);
      else expect(String(value), key).not.toContain('?');
    }
    expect(urlAttributes).toContainEqual(['url.query', '[redacted]']);
  }, 60_000);

  it('loads no OpenTelemetry module when no OTEL_* variable asks for traces', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix();
    onTestFinished(() => deleteKeysWithPrefix(redisUrl, prefix));
    const off = await service({
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      ROLE: 'api',
      MORI_WEBHOOK_SECRET: WEBHOOK_SECRET,
      // Set but not asking: the SDK is disabled, so an endpoint alone does not turn traces on.
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      NODE_OPTIONS: RECORD_OTEL_IMPORTS,
    });
    const body = JSON.stringify({ eventId: 'evt-off' });
    await fetch(`${off.url}/webhooks/mori`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moribiz-signature': moriSign(body, WEBHOOK_SECRET) },
      body,
    });
    // Log lines are written in batches, at most 250 ms late (src/logger.ts).
    await eventually(() => off.output().includes('mori-webhook-receiver started'), { what: 'the start-up line' });
    expect(otelLoaded(off.output())).toEqual([]);
  });
});
