import type { AddressInfo } from 'node:net';
import { UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { enqueueOrder } from '../../src/cli/enqueue-order.js';
import { UsageError } from '../../src/cli/io.js';
import { createMockMori } from '../../src/cli/mock-mori.js';
import { registerWebhook } from '../../src/cli/register-webhook.js';
import { replay } from '../../src/cli/replay.js';
import { status } from '../../src/cli/status.js';
import {
  DELIVERIES_QUEUE,
  DELIVER_JOB,
  EVENTS_QUEUE,
  createDeliveriesQueue,
  createEventsQueue,
  deliveryJobId,
} from '../../src/queues.js';
import { closeRedis, createRedis, waitUntilReady } from '../../src/redis.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { cliContext } from '../helpers/cli-context.js';
import { eventually } from '../helpers/eventually.js';
import { moriSign } from '../helpers/mori-signer.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';
import { startCaptureServer } from '../helpers/capture-server.js';

const redisUrl = inject('redisUrl');

const context = cliContext;

async function queues(prefix: string) {
  const conn = createRedis(redisUrl, 'plain');
  await waitUntilReady(conn, 5000);
  const events = createEventsQueue(conn, prefix);
  const deliveries = createDeliveriesQueue(conn, prefix);
  onTestFinished(async () => {
    await events.close();
    await deliveries.close();
    await closeRedis(conn);
    await deleteKeysWithPrefix(redisUrl, prefix);
  });
  return { events, deliveries };
}

/** Dead-letters every job in a queue with a real BullMQ worker that fails them for good. */
async function deadLetterAll(queueName: string, prefix: string, count: number, check: () => Promise<number>) {
  const worker = new Worker(
    queueName,
    async () => {
      throw new UnrecoverableError('sink "crm" answered 500');
    },
    { connection: { url: redisUrl }, prefix },
  );
  try {
    await eventually(async () => (await check()) === count, { what: `${count} dead letters` });
  } finally {
    await worker.close();
  }
}

describe('enqueue-order, status and replay', () => {
  it('queues orders by hand, reports counts, and puts dead letters back with fresh budgets', async () => {
    const prefix = testPrefix();
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix };
    const { events, deliveries } = await queues(prefix);

    const enq = context(['1234567890123456789', '42'], env);
    expect(await enqueueOrder(enq.ctx)).toBe(0);
    const queued = await events.getJobs(['waiting']);
    expect(queued.map((j) => j.data.orderId).sort()).toEqual(['1234567890123456789', '42']);
    expect(queued[0]!.data).toMatchObject({ generation: 'manual', eventType: 'manual.enqueue-order' });

    for (const sink of ['crm', 'archive']) {
      const deliveryId = `dlv_${'0'.repeat(32)}`;
      await deliveries.add(
        DELIVER_JOB,
        {
          deliveryId,
          sinkName: sink,
          orderId: '42',
          updatedAt: '2026-01-01T00:00:00Z',
          order: {},
          fetchedAt: Date.now(),
          event: { eventId: 'e', eventType: 't', occurredAt: null, receivedAt: 'r' },
          failingSince: 1,
        },
        { jobId: deliveryJobId(deliveryId, sink) },
      );
    }
    await deadLetterAll(DELIVERIES_QUEUE, prefix, 2, () => deliveries.getFailedCount());

    const st = context(['--json'], env);
    expect(await status(st.ctx)).toBe(0);
    const report = JSON.parse(st.out.join('\n'));
    expect(report.queues[EVENTS_QUEUE]).toMatchObject({ waiting: 2, failed: 0 });
    expect(report.queues[DELIVERIES_QUEUE]).toMatchObject({ failed: 2 });
    expect(report.deadLettersBySink).toEqual({ crm: 1, archive: 1 });

    const dry = context(['--sink', 'crm', '--dry-run'], env);
    expect(await replay(dry.ctx)).toBe(0);
    expect(dry.out.at(-1)).toBe('would replay 1 job(s)');
    expect(await deliveries.getFailedCount()).toBe(2);

    const rep = context(['--sink', 'crm'], env);
    expect(await replay(rep.ctx)).toBe(0);
    expect(rep.out[0]).toMatch(/^replayed mori-deliveries dlv_0+-crm order=42 sink=crm: sink "crm" answered 500$/);
    expect(await deliveries.getFailedCount()).toBe(1);
    const back = await deliveries.getJob(deliveryJobId(`dlv_${'0'.repeat(32)}`, 'crm'));
    expect(await back!.getState()).toBe('waiting');
    expect(back!.data.failingSince).toBeUndefined();

    const human = context([], env);
    await status(human.ctx);
    expect(human.out.join('\n')).toContain('dead-lettered deliveries: archive=1');
  });

  it('refuses an order id that is not one, naming it', async () => {
    const { ctx } = context(['12/34'], { REDIS_URL: redisUrl });
    await expect(enqueueOrder(ctx)).rejects.toThrow(UsageError);
    await expect(enqueueOrder(ctx)).rejects.toThrow('12/34');
  });
});

describe('mock-mori', () => {
  it("serves orders for any id and sends a finished order's event signed, retrying like MORI", async () => {
    const capture = await startCaptureServer();
    onTestFinished(() => capture.close());
    capture.script([{ status: 500 }]);
    const mori = createMockMori({
      token: 'tok',
      finishAfterMs: 0,
      webhooks: [{ url: capture.url, secret: 'whsec_demo_secret' }],
    });
    await new Promise<void>((r) => mori.server.listen(0, '127.0.0.1', r));
    onTestFinished(() => mori.close());
    const order = mori.createOrder('watermarkEmbed');

    await eventually(() => capture.requests.length === 2, { what: 'the retry after a 500' });
    const [first, second] = capture.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(second!.headers['x-moribiz-signature']).toBe(moriSign(second!.body, 'whsec_demo_secret'));
    expect(second!.json).toMatchObject({
      eventType: 'order.watermarkEmbed.completed',
      data: { orderId: order.orderId },
    });

    const base = `http://127.0.0.1:${(mori.server.address() as AddressInfo).port}`;
    const v3 = await fetch(`${base}/api/v3/orders/${String(order.orderId)}`, {
      headers: { authorization: 'Bearer tok' },
    });
    expect(((await v3.json()) as { data: unknown }).data).toMatchObject({
      orderId: order.orderId,
      type: 'watermarkEmbed',
      status: 'complete',
      result: { outputFiles: [expect.objectContaining({ watermarkText: '© MORI demo' })] },
    });
    const v2 = await fetch(`${base}/api/v2/orders/${String(order.orderId)}`, {
      headers: { authorization: 'Bearer tok' },
    });
    expect(((await v2.json()) as { data: unknown }).data).toMatchObject({
      orderId: order.orderId,
      status: 'complete',
      watermarks: ['© MORI demo'],
    });
    expect((await fetch(`${base}/api/v2/orders/1`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });
});

describe('register-webhook', () => {
  it('registers the URL with MORI and prints the secret as a ready .env line, keeping the old one for the rotation', async () => {
    const mori = createMockMori({ token: 'tok', finishAfterMs: 0 });
    await new Promise<void>((r) => mori.server.listen(0, '127.0.0.1', r));
    onTestFinished(() => mori.close());
    const base = `http://127.0.0.1:${(mori.server.address() as AddressInfo).port}`;
    const { ctx, out } = context(['--url', 'https://hooks.example.com/webhooks/mori'], {
      MORI_API_BASE_URL: base,
      MORI_API_TOKEN: 'tok',
      MORI_WEBHOOK_SECRET: 'whsec_the_old_secret',
    });
    expect(await registerWebhook(ctx)).toBe(0);
    expect(out.at(-1)).toMatch(/^MORI_WEBHOOK_SECRET=whsec_[A-Za-z0-9_-]{32},whsec_the_old_secret$/);
  });

  it('refuses a plain-http public URL', async () => {
    const { ctx } = context(['--url', 'http://hooks.example.com/x'], { MORI_API_TOKEN: 't' });
    await expect(registerWebhook(ctx)).rejects.toThrow(/https/);
  });
});
