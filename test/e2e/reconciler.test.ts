import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { FETCH_ORDER_JOB, createEventsQueue, newEventJobId } from '../../src/queues.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { readJsonLines } from '../helpers/json-lines.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeMori } from '../helpers/fake-mori.js';
import { startTestWorker, type TestWorker } from '../helpers/start-test-worker.js';

const MISSED = 5;
const ANNOUNCED = 2;

async function missedCount(worker: TestWorker): Promise<number> {
  return (await worker.metrics.reconcileMissed.get()).values[0]?.value ?? 0;
}

describe('the reconciler', () => {
  it('after a downtime, delivers once each order whose webhook never came, and not the ones that did; two workers sweep without duplicates', async () => {
    const mori = await startFakeMori({ token: 'sk_test_rec' });
    const dir = mkdtempSync(join(tmpdir(), 'mori-reconcile-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'orders.jsonl');
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix();
    const env = {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'sk_test_rec',
      SINKS: JSON.stringify([{ type: 'file', name: 'file', path: file }]),
    };
    const lines = () => readJsonLines(file);

    // 1. While all is well, two orders arrive through their webhooks (queued as the receiver does).
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const events = createEventsQueue(connection, prefix);
    onTestFinished(async () => {
      await events.close();
      connection.disconnect();
    });
    const first = await startTestWorker(env);
    const announced = Array.from({ length: ANNOUNCED }, () => mori.createOrder('antiAi'));
    for (const o of announced) {
      await events.add(
        FETCH_ORDER_JOB,
        {
          eventId: newEventJobId(),
          eventType: 'order.antiAi.completed',
          orderId: String(o.orderId),
          occurredAt: null,
          receivedAt: new Date().toISOString(),
          generation: 'current',
        },
        { jobId: newEventJobId() },
      );
    }
    await eventually(() => lines().length === ANNOUNCED, { what: 'the announced orders' });
    await first.close();

    // 2. The receiver is down: orders finish at MORI and no webhook ever arrives.
    const missed = Array.from({ length: MISSED }, () => mori.createOrder('aiDetection', { probability: 0.02 }));

    // 3. Two workers start; the last sweep is older than the interval, so one of them sweeps now.
    const workers = await Promise.all([
      startTestWorker({ ...env, RECONCILE_INTERVAL_MS: '60000' }),
      startTestWorker({ ...env, RECONCILE_INTERVAL_MS: '60000' }),
    ]);
    onTestFinished(async () => {
      await Promise.all(workers.map((w) => w.close()));
    });
    await eventually(() => lines().length >= ANNOUNCED + MISSED, { what: 'the missed orders', timeoutMs: 20_000 });
    await eventually(async () => (await missedCount(workers[0])) + (await missedCount(workers[1])) === MISSED, {
      what: 'the missed-order metric',
    });

    const delivered = lines();
    expect(delivered).toHaveLength(ANNOUNCED + MISSED);
    expect(new Set(delivered.map((l) => l.data.order.orderId)).size).toBe(ANNOUNCED + MISSED);
    const bySource = (source: string) =>
      delivered
        .filter((l) => l.data.event.source === source)
        .map((l) => l.data.order.orderId)
        .sort();
    expect(bySource('webhook')).toEqual(announced.map((o) => o.orderId).sort());
    expect(bySource('reconcile')).toEqual(missed.map((o) => o.orderId).sort());
    expect(delivered.find((l) => l.data.event.source === 'reconcile')).toMatchObject({
      type: 'order.aiDetection.completed',
      data: { event: { eventType: 'order.aiDetection.completed' }, summary: { verdict: 'likely_real' } },
    });
    // One look-up per order state: the announced ones were not looked up again.
    const lookups = mori.requests.filter((r) => r.path.startsWith('/api/v3/orders/'));
    expect(lookups).toHaveLength(ANNOUNCED + MISSED);
    // One sweep (one page), not one per worker.
    expect(mori.requests.filter((r) => r.path.startsWith('/api/v2/orders?'))).toHaveLength(1);
  });
});
