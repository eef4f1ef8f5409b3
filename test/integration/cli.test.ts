import { UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { deadLetters } from '../../src/cli/dead-letters.js';
import { enqueueOrder } from '../../src/cli/enqueue-order.js';
import { UsageError } from '../../src/cli/io.js';
import { registerWebhook } from '../../src/cli/register-webhook.js';
import { replay } from '../../src/cli/replay.js';
import { randomOrderIdOfType } from '../../src/cli/sample-orders.js';
import { status } from '../../src/cli/status.js';
import { createIntake } from '../../src/webhook/intake.js';
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
import { startFakeMori } from '../helpers/fake-mori.js';
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
  return { events, deliveries, conn };
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

  it('replay says when --sink or --job matches nothing and exits 1; dead-letters lists and discards them for good', async () => {
    const prefix = testPrefix();
    // "gone" was removed from SINKS; "crm" is still configured.
    const sinks = JSON.stringify([{ type: 'stdout', name: 'crm' }]);
    const env = {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      SINKS: sinks,
      MORI_WEBHOOK_SECRET: 'whsec_abcdefgh',
      MORI_API_TOKEN: 't',
    };
    const { deliveries } = await queues(prefix);
    for (const [n, sink] of [
      [1, 'gone'],
      [2, 'gone'],
      [3, 'crm'],
    ] as const) {
      const deliveryId = `dlv_${String(n).repeat(32)}`;
      await deliveries.add(
        DELIVER_JOB,
        {
          deliveryId,
          sinkName: sink,
          orderId: String(n),
          updatedAt: '2026-01-01T00:00:00Z',
          order: {},
          fetchedAt: Date.now(),
          event: { eventId: 'e', eventType: 't', occurredAt: null, receivedAt: 'r' },
        },
        { jobId: deliveryJobId(deliveryId, sink) },
      );
    }
    await deadLetterAll(DELIVERIES_QUEUE, prefix, 3, () => deliveries.getFailedCount());

    const typo = context(['--sink', 'crn'], env);
    expect(await replay(typo.ctx)).toBe(1);
    expect(typo.err).toEqual(["no dead letter for sink 'crn' (dead letters per sink: status)"]);
    const noJob = context(['--job', 'nope', '--dry-run'], env);
    expect(await replay(noJob.ctx)).toBe(1);
    expect(noJob.err).toEqual(["no dead letter with job id 'nope'"]);
    expect(await deliveries.getFailedCount()).toBe(3);

    const list = context(['list'], env);
    expect(await deadLetters(list.ctx)).toBe(0);
    expect(list.out.filter((l) => l.endsWith('[sink not in SINKS: replay cannot deliver it]'))).toHaveLength(2);
    expect(list.out.at(-1)).toBe('3 dead letter(s)');
    const json = context(['list', '--json', '--sink', 'crm'], env);
    expect(await deadLetters(json.ctx)).toBe(0);
    expect(json.out.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        orderId: '3',
        sink: 'crm',
        sinkConfigured: true,
        failedReason: 'sink "crm" answered 500',
      }),
    ]);

    await expect(deadLetters(context(['discard'], env).ctx)).rejects.toThrow(
      'exactly one of --sink NAME, --job ID or --all',
    );
    const dry = context(['discard', '--sink', 'gone', '--dry-run'], env);
    expect(await deadLetters(dry.ctx)).toBe(0);
    expect(dry.out.at(-1)).toBe('would discard 2 dead letter(s)');
    expect(await deliveries.getFailedCount()).toBe(3);
    const discard = context(['discard', '--sink', 'gone'], env);
    expect(await deadLetters(discard.ctx)).toBe(0);
    expect(discard.out.at(-1)).toBe('discarded 2 dead letter(s)');
    expect(await deliveries.getFailedCount()).toBe(1);
    expect(await deliveries.getJob(deliveryJobId(`dlv_${'1'.repeat(32)}`, 'gone'))).toBeUndefined();
    const again = context(['discard', '--sink', 'gone'], env);
    expect(await deadLetters(again.ctx)).toBe(1);
    expect(again.err).toEqual(["no dead letter for sink 'gone' (dead letters per sink: status)"]);
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
    const mori = await startFakeMori({
      token: 'tok',
      unknownOrders: 'simulate',
      webhooks: [{ url: capture.url, secret: 'whsec_demo_secret' }],
    });
    const order = mori.createOrder('watermarkEmbed');

    await eventually(() => capture.requests.length === 2, { what: 'the retry after a 500' });
    const [first, second] = capture.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(second!.headers['x-moribiz-signature']).toBe(moriSign(second!.body, 'whsec_demo_secret'));
    expect(second!.json).toMatchObject({
      eventType: 'order.watermarkEmbed.completed',
      data: { orderId: order.orderId },
    });

    const v3 = await fetch(`${mori.url}/api/v3/orders/${String(order.orderId)}`, {
      headers: { authorization: 'Bearer tok' },
    });
    expect(((await v3.json()) as { data: unknown }).data).toMatchObject({
      orderId: order.orderId,
      type: 'watermarkEmbed',
      status: 'complete',
      result: { outputFiles: [expect.objectContaining({ watermarkText: '© MORI demo' })] },
    });
    const v2 = await fetch(`${mori.url}/api/v2/orders/${String(order.orderId)}`, {
      headers: { authorization: 'Bearer tok' },
    });
    expect(((await v2.json()) as { data: unknown }).data).toMatchObject({
      orderId: order.orderId,
      status: 'complete',
      watermarks: ['© MORI demo'],
    });
    expect((await fetch(`${mori.url}/api/v2/orders/1`, { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
  });
});

describe('mock-mori serves what send-test-event announces', () => {
  it("serves the event's order type, failed when send-test-event --failed picked the id, and logs one line per request", async () => {
    const lines: string[] = [];
    const mori = await startFakeMori({ token: 'tok', unknownOrders: 'simulate', log: (l) => lines.push(l) });
    const get = async (path: string) =>
      (await (await fetch(`${mori.url}${path}`, { headers: { authorization: 'Bearer tok' } })).json()) as {
        data: Record<string, unknown>;
      };

    for (const failed of [false, true]) {
      const id = randomOrderIdOfType('watermarkExtract', failed);
      const { data } = await get(`/api/v3/orders/${id}`);
      expect(data).toMatchObject({ orderId: id, type: 'watermarkExtract', status: failed ? 'failed' : 'complete' });
      expect(lines.at(-1)).toBe(`GET /api/v3/orders/${id} → 200 (watermarkExtract ${failed ? 'failed' : 'complete'})`);
    }
    await fetch(`${mori.url}/api/v3/orders/1`, { headers: { authorization: 'Bearer wrong' } });
    expect(lines.at(-1)).toBe('GET /api/v3/orders/1 → 401');
    expect((await fetch(`${mori.url}/healthz`)).status).toBe(200);
    expect(lines).toHaveLength(3);
  });
});

describe('status', () => {
  it('counts the events accepted and not yet jobs, with the age of the oldest', async () => {
    const prefix = testPrefix();
    const { conn } = await queues(prefix);
    const intake = createIntake(conn, prefix, { dedupeTtlMs: 60_000 });
    for (const eventId of ['in-1', 'in-2']) {
      expect(
        await intake.add({
          eventId,
          eventType: 'order.antiAi.completed',
          orderId: '42',
          occurredAt: null,
          receivedAt: new Date().toISOString(),
          generation: 'current',
        }),
      ).toBe(true);
    }
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix };
    const json = context(['--json'], env);
    expect(await status(json.ctx)).toBe(0);
    expect(JSON.parse(json.out.join('\n')).intake).toEqual({ entries: 2, oldestSeconds: expect.any(Number) });
    const human = context([], env);
    expect(await status(human.ctx)).toBe(0);
    expect(human.out).toContainEqual(expect.stringMatching(/^intake: 2 accepted events not yet jobs, oldest \d+s/));
  });

  it("shows - rather than 0s for an empty queue's oldest wait, and --watch reports again until stopped", async () => {
    const prefix = testPrefix();
    await queues(prefix);
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix };
    const once = context([], env);
    expect(await status(once.ctx)).toBe(0);
    expect(once.out[1]).toMatch(/^mori-events(\s+0){6}\s+-$/);

    const stop = new AbortController();
    const watching = context(['--watch', '--interval', '0.1', '--json'], env);
    const done = status(watching.ctx, stop.signal);
    await eventually(() => watching.out.length >= 3, { what: 'three reports' });
    stop.abort();
    expect(await done).toBe(0);
    const reports = watching.out.map((l) => JSON.parse(l) as { at: string; queues: Record<string, unknown> });
    expect(reports.every((r) => r.queues[EVENTS_QUEUE] !== undefined && !Number.isNaN(Date.parse(r.at)))).toBe(true);

    expect(once.out).toContain('intake: empty (every accepted event is a job)');
    await expect(status(context(['--interval', '1'], env).ctx)).rejects.toThrow('--interval applies to --watch');
    await expect(status(context(['--watch', '--interval', 'soon'], env).ctx)).rejects.toThrow(/--interval.*'soon'/);
  });
});

describe('register-webhook', () => {
  it('registers the URL with MORI and prints the secret as a ready .env line, keeping the old one for the rotation', async () => {
    const mori = await startFakeMori({ token: 'tok' });
    const { ctx, out } = context(['--url', 'https://hooks.example.com/webhooks/mori'], {
      MORI_API_BASE_URL: mori.url,
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
