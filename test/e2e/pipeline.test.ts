import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { replay } from '../../src/cli/replay.js';
import { summarizeOrder } from '../../src/orders/summary.js';
import { createDeliveriesQueue } from '../../src/queues.js';
import { buildTestServer, testPrefix, type TestServer } from '../helpers/build-test-server.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { readJsonLines } from '../helpers/json-lines.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { startTestWorker, type TestWorker } from '../helpers/start-test-worker.js';
import { tempDir } from '../helpers/temp-dir.js';

const HTTP_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Pipeline {
  /** The environment both halves were started with, to start another worker like them. */
  env: Record<string, string>;
  server: TestServer;
  worker: TestWorker;
  mori: FakeMori;
  capture: CaptureServer;
  file: string;
  post(event: Record<string, unknown>): Promise<number>;
  lines(): Record<string, any>[];
}

let running: Pipeline | undefined;
afterEach(async () => {
  if (!running) return;
  await running.worker.close();
  await running.server.close();
  await running.capture.close();
  await running.mori.close();
  running = undefined;
});

/** The real receiver, Redis, worker and sinks: an http sink (capture server) and a file sink. */
async function startPipeline(env: Record<string, string> = {}): Promise<Pipeline> {
  const mori = await startFakeMori();
  const capture = await startCaptureServer();
  const file = join(tempDir('pipeline-'), 'orders.jsonl');
  const prefix = testPrefix();
  const shared = {
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: prefix,
    MORI_API_BASE_URL: mori.url,
    MORI_API_TOKEN: mori.token,
    SINKS: JSON.stringify([
      { type: 'http', name: 'crm', url: capture.url, secret: HTTP_SECRET, timeoutMs: 2000 },
      { type: 'file', name: 'archive', path: file },
    ]),
    ...env,
  };
  const server = await buildTestServer({ ...shared, ROLE: 'api' });
  const worker = await startTestWorker(shared);
  running = {
    env: shared,
    server,
    worker,
    mori,
    capture,
    file,
    post: async (event) => (await server.postSigned(JSON.stringify(event))).statusCode,
    lines: () => readJsonLines(file),
  };
  return running;
}

const ORDER_ID = '1234567890123456789';

describe('webhook → Redis → worker → sinks', () => {
  it("delivers the order MORI serves, once to each sink, in the contract's envelope", async () => {
    const p = await startPipeline();
    const order = finalOrder(ORDER_ID, 'aiDetection', { somethingNew: true });
    p.mori.setOrder(order);
    const event = buildSampleEvent(order, 'current', 'evt-one');
    expect(await p.post(event)).toBe(200);

    await eventually(() => p.lines().length === 1 && p.capture.requests.length === 1, {
      what: 'one delivery per sink',
    });
    const [line] = p.lines();
    expect(line).toEqual({
      id: expect.stringMatching(/^dlv_[0-9a-f]{32}$/),
      type: 'order.aiDetection.completed',
      timestamp: expect.any(String),
      data: {
        order,
        summary: summarizeOrder(order),
        event: {
          eventId: 'evt-one',
          eventType: 'order.aiDetection.completed',
          occurredAt: order.updatedAt,
          receivedAt: expect.any(String),
          source: 'webhook',
        },
      },
    });
    const req = p.capture.requests[0]!;
    expect(new Webhook(HTTP_SECRET).verify(req.body, req.headers)).toMatchObject({ id: line!.id, data: { order } });
    expect(req.headers['webhook-id']).toBe(line!.id);
  });

  it('delivers a state once however many events announce it, in either generation', async () => {
    const p = await startPipeline();
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    const codes = await Promise.all([
      p.post(buildSampleEvent(order, 'current', 'evt-a')),
      p.post(buildSampleEvent(order, 'current', 'evt-a')),
      p.post(buildSampleEvent(order, 'current', 'evt-b')),
      p.post(buildSampleEvent(order, 'legacy', 'evt-legacy')),
    ]);
    expect(codes).toEqual([200, 200, 200, 200]);
    await eventually(async () => (await p.server.queue.getCompletedCount()) === 3, {
      what: 'three fetch jobs to finish',
    });
    // Every fetch job has queued its deliveries; wait until none is left to run before counting.
    const deliveries = createDeliveriesQueue(p.server.producer, p.server.config.REDIS_PREFIX);
    try {
      await eventually(
        async () => {
          const c = await deliveries.getJobCounts('waiting', 'active', 'delayed', 'completed');
          return (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0 && c.completed === 2;
        },
        { what: 'the deliveries to finish' },
      );
    } finally {
      await deliveries.close();
    }
    expect(p.lines()).toHaveLength(1);
    expect(p.capture.requests).toHaveLength(1);
    expect(p.mori.requestsFor(ORDER_ID)).toHaveLength(3);
  });

  it('delivers once when two workers race on events for the same state', async () => {
    // One job at a time per worker, so the two workers certainly share the look-ups.
    const p = await startPipeline({ WORKER_CONCURRENCY: '1' });
    const second = await startTestWorker(p.env);
    try {
      const order = finalOrder(ORDER_ID);
      p.mori.setOrder(order);
      // Slow look-ups keep both workers busy with the same order at the same time.
      p.mori.script(
        ORDER_ID,
        Array.from({ length: 10 }, () => ({ order, delayMs: 100 })),
      );
      const codes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => p.post(buildSampleEvent(order, 'current', `evt-race-${i}`))),
      );
      expect(codes).toEqual(Array(10).fill(200));
      await eventually(async () => (await p.server.queue.getCompletedCount()) === 10, { what: 'ten look-ups' });
      // Both workers did look-ups (each counts its own in its own registry).
      for (const w of [p.worker, second]) {
        expect(await w.metrics.registry.getSingleMetricAsString('mori_api_request_duration_seconds')).toMatch(
          /_count\{status="200"\} [1-9]/,
        );
      }
      await eventually(() => p.lines().length === 1 && p.capture.requests.length === 1, {
        what: 'one delivery per sink',
      });
      const deliveries = createDeliveriesQueue(p.server.producer, p.server.config.REDIS_PREFIX);
      try {
        await eventually(async () => (await deliveries.getCompletedCount()) === 2, { what: 'the two delivery jobs' });
        expect(await deliveries.getJobCounts('waiting', 'active', 'delayed', 'failed')).toEqual({
          waiting: 0,
          active: 0,
          delayed: 0,
          failed: 0,
        });
      } finally {
        await deliveries.close();
      }
      expect(p.lines()).toHaveLength(1);
      expect(p.capture.requests).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('waits out an order that is not final yet', async () => {
    const p = await startPipeline();
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    p.mori.script(ORDER_ID, [
      { order: { ...order, status: 'pending' } },
      { order: { ...order, status: 'inProgress' } },
    ]);
    expect(await p.post(buildSampleEvent(order))).toBe(200);
    await eventually(() => p.lines().length === 1, { what: 'the delivery' });
    expect(p.lines()[0]!.data.order.status).toBe('complete');
    expect(p.mori.requestsFor(ORDER_ID)).toHaveLength(3);
  });

  it('retries a failing http sink with the same webhook-id while the file sink gets one line', async () => {
    const p = await startPipeline();
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    p.capture.script([{ status: 500 }, { status: 503 }, { status: 502 }]);
    expect(await p.post(buildSampleEvent(order))).toBe(200);
    await eventually(() => p.capture.requests.length === 4, { what: 'the fourth attempt to succeed' });
    const ids = new Set(p.capture.requests.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    for (const r of p.capture.requests) expect(new Webhook(HTTP_SECRET).verify(r.body, r.headers)).toBeTruthy();
    expect(p.lines()).toHaveLength(1);
    expect(p.lines()[0]!.id).toBe([...ids][0]);
  });

  it('reads the order again for a late delivery, so the sink gets presigned URLs that still work', async () => {
    const p = await startPipeline({ ORDER_REFRESH_AFTER_MS: '150' });
    const stale = finalOrder(ORDER_ID, 'antiAi', {
      thumbnailImageUrl: 'https://files.example.invalid/t.png?X-Amz-Signature=old',
    });
    const fresh = { ...stale, thumbnailImageUrl: 'https://files.example.invalid/t.png?X-Amz-Signature=new' };
    p.mori.script(ORDER_ID, [{ order: stale }]);
    p.mori.setOrder(fresh);
    // The http sink's first attempt fails slowly, so its retry comes after the refresh threshold.
    p.capture.script([{ status: 500, delayMs: 300 }]);
    expect(await p.post(buildSampleEvent(stale))).toBe(200);
    await eventually(() => p.capture.requests.length === 2, { what: 'the retry' });
    const [first, retry] = p.capture.requests;
    expect((first!.json as any).data.order.thumbnailImageUrl).toContain('Signature=old');
    expect((retry!.json as any).data.order.thumbnailImageUrl).toContain('Signature=new');
    expect((retry!.json as any).id).toBe((first!.json as any).id);
    expect(p.lines()[0]!.data.order.thumbnailImageUrl).toContain('Signature=old');
  });

  it('rides out a MORI outage with job-level retries', async () => {
    const p = await startPipeline();
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    p.mori.script(ORDER_ID, [{ status: 503 }, { status: 502 }, { status: 500 }, { status: 504 }, { delayMs: 2500 }]);
    expect(await p.post(buildSampleEvent(order))).toBe(200);
    await eventually(() => p.lines().length === 1, { what: 'the delivery after the outage' });
    expect(p.mori.requestsFor(ORDER_ID).length).toBe(6);
    const statuses = await p.worker.metrics.registry.getSingleMetricAsString('mori_api_request_duration_seconds');
    expect(statuses).toContain('status="503"');
  });

  it('dead-letters a delivery whose sink stays down past its budget, with the last error, and replays it on demand', async () => {
    const p = await startPipeline({ SINK_RETRY_BUDGET_MS: '300' });
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    p.capture.script(Array.from({ length: 1000 }, () => ({ status: 503 })));
    expect(await p.post(buildSampleEvent(order))).toBe(200);
    const deliveries = createDeliveriesQueue(p.server.producer, p.server.config.REDIS_PREFIX);
    try {
      const [dead] = await eventually(
        async () => {
          const failed = await deliveries.getFailed();
          return failed.length === 1 ? failed : undefined;
        },
        { what: 'the dead letter' },
      );
      expect(dead!.failedReason).toMatch(/gave up after sink "crm" failed for \d+ s: sink "crm" .* answered 503/);
      expect(dead!.data.sinkName).toBe('crm');
      expect(p.lines()).toHaveLength(1);

      // The receiver is back: replay puts the dead letter back, and it is delivered once.
      p.capture.clearScript();
      p.capture.requests.length = 0;
      const out: string[] = [];
      const env = { REDIS_URL: inject('redisUrl'), REDIS_PREFIX: p.server.config.REDIS_PREFIX };
      expect(await replay({ args: ['--sink', 'crm'], env, out: (l) => out.push(l), err: () => undefined })).toBe(0);
      expect(out.at(-1)).toBe('replayed 1 job(s)');
      await eventually(async () => (await deliveries.getCompletedCount()) === 2, { what: 'the replayed delivery' });
      expect(p.capture.requests.filter((r) => r.headers['webhook-id'] === dead!.data.deliveryId)).toHaveLength(1);
      expect(p.lines()).toHaveLength(1);
    } finally {
      await deliveries.close();
    }
  });

  it('never sends a sink an older state after a newer one', async () => {
    const p = await startPipeline();
    const newer = finalOrder(ORDER_ID, 'antiAi', { status: 'expired', updatedAt: '2026-03-12T12:00:00.000Z' });
    const older = finalOrder(ORDER_ID, 'antiAi', { status: 'complete', updatedAt: '2026-03-12T10:05:00.000Z' });
    p.mori.script(ORDER_ID, [{ order: newer }, { order: older }]);
    expect(await p.post(buildSampleEvent(newer, 'current', 'evt-new'))).toBe(200);
    await eventually(() => p.lines().length === 1, { what: 'the newer state' });
    expect(await p.post(buildSampleEvent(older, 'current', 'evt-late'))).toBe(200);
    await eventually(async () => (await p.server.queue.getCompletedCount()) === 2, {
      what: 'the late event to be processed',
    });
    await eventually(
      async () => {
        const text = await p.worker.metrics.registry.getSingleMetricAsString('mori_sink_deliveries_total');
        return text.includes('sink="archive",outcome="stale"} 1');
      },
      { what: 'the stale state to be skipped' },
    );
    expect(p.lines().map((l) => l.data.order.status)).toEqual(['expired']);
  });

  it('ends the job without a delivery when MORI does not know the order (404)', async () => {
    const p = await startPipeline();
    expect(await p.post(buildSampleEvent(finalOrder('404404404')))).toBe(200);
    const failed = await eventually(async () => (await p.server.queue.getFailed())[0], { what: 'a dead letter' });
    expect(failed.failedReason).toContain('404');
    expect(failed.data.orderId).toBe('404404404');
    expect(p.lines()).toHaveLength(0);
    expect(p.capture.requests).toHaveLength(0);
    expect(p.mori.requestsFor('404404404')).toHaveLength(1);
  });

  it('pauses on a rejected token instead of hammering MORI, and resumes once it is fixed', async () => {
    const p = await startPipeline({ MORI_AUTH_PAUSE_MS: '400' });
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    p.mori.setToken('the-rotated-token');
    expect(await p.post(buildSampleEvent(order))).toBe(200);
    await eventually(() => p.mori.requestsFor(ORDER_ID).length >= 2, { what: 'a look-up after the pause' });
    const [first, second] = p.mori.requestsFor(ORDER_ID);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(400);
    expect(await p.worker.metrics.registry.getSingleMetricAsString('mori_api_auth_failures_total')).toMatch(
      / [1-9]\d*$/,
    );
    expect(p.lines()).toHaveLength(0);

    // The operator fixes the token: the waiting event is delivered, nothing was lost.
    p.mori.setToken(p.mori.token);
    await eventually(() => p.lines().length === 1, { what: 'the delivery after the fix' });
    expect(await p.server.queue.getFailedCount()).toBe(0);
  });
});
