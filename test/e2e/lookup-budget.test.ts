import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { FETCH_ORDER_JOB, createEventsQueue, newEventJobId } from '../../src/queues.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { readJsonLines } from '../helpers/json-lines.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { startTestWorker, type TestWorker } from '../helpers/start-test-worker.js';

/** MORI's one-minute window, compressed to three seconds so a burst drains in seconds. */
const WINDOW_MS = 3000;
const ORDERS = 60;

let worker: TestWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

/** A local MORI enforcing `max` calls per window, recording when each order look-up arrived. */
async function startMori(max: number): Promise<{ mori: FakeMori; lookups: number[] }> {
  const lookups: number[] = [];
  const mori = await startFakeMori({
    token: 'sk_test_budget',
    rateLimit: { max, windowMs: WINDOW_MS },
    log: (line) => {
      if (line.startsWith('GET /api/v3/orders/')) lookups.push(Date.now());
    },
  });
  return { mori, lookups };
}

/** The most calls that fell inside any one window. */
function busiestWindow(times: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= WINDOW_MS) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** A burst of final orders announced at once (as enqueue-order queues them), then drained. */
async function burst(
  mori: FakeMori,
  env: Record<string, string>,
): Promise<{ lines: { id: string; data: { order: { orderId: string } } }[] }> {
  const redisUrl = inject('redisUrl');
  const prefix = testPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'mori-budget-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'orders.jsonl');
  worker = await startTestWorker({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    MORI_API_BASE_URL: mori.url,
    MORI_API_TOKEN: 'sk_test_budget',
    MORI_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    // The plan's defaults, not the test helper's generous budget.
    MORI_RATE_LIMIT_PER_MINUTE: '',
    MORI_BUDGET_SHARE: '',
    SINKS: JSON.stringify([{ type: 'file', name: 'file', path: file }]),
    ...env,
  });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = createEventsQueue(connection, prefix);
  onTestFinished(async () => {
    await queue.close();
    connection.disconnect();
  });
  const receivedAt = new Date().toISOString();
  const orders = Array.from({ length: ORDERS }, () => mori.createOrder('aiDetection', { probability: 0.98 }));
  await queue.addBulk(
    orders.map((o) => ({
      name: FETCH_ORDER_JOB,
      data: {
        eventId: newEventJobId(),
        eventType: 'order.aiDetection.completed',
        orderId: String(o.orderId),
        occurredAt: null,
        receivedAt,
        generation: 'manual' as const,
      },
      opts: { jobId: newEventJobId() },
    })),
  );
  const read = () => readJsonLines(file);
  await eventually(() => read().length >= ORDERS, { what: `${ORDERS} deliveries`, timeoutMs: 40_000 });
  return { lines: read() };
}

describe('the MORI look-up budget', () => {
  it('with defaults (Free plan, half of it), a burst spends one call per order, never more than 30 per window, and meets no 429', async () => {
    const { mori, lookups } = await startMori(60);
    const { lines } = await burst(mori, {});
    expect(new Set(lines.map((l) => l.data.order.orderId)).size).toBe(ORDERS);
    expect(lines).toHaveLength(ORDERS);
    expect(mori.stats).toMatchObject({ requests: ORDERS, rateLimited: 0 });
    // One call every 100 ms: a window may hold one more at its edge.
    expect(busiestWindow(lookups)).toBeLessThanOrEqual(31);
    const calls = await worker!.metrics.registry.getSingleMetricAsString('mori_api_calls_total');
    expect(calls).toContain(
      `mori_api_calls_total{purpose="lookup",endpoint="GET /api/v3/orders/{id}",status="200"} ${ORDERS}`,
    );
  });

  it('when MORI refuses calls (the customer spent the rest), every worker slows down together and nothing is lost', async () => {
    // MORI lets us have only 10 calls a window: the budget of 30 is three times too much.
    const { mori } = await startMori(10);
    const rates: number[] = [];
    const sampler = setInterval(() => {
      void worker?.metrics.moriBudgetRate
        .get()
        .then((m) => rates.push(...m.values.filter((v) => v.labels.kind === 'current').map((v) => v.value)));
    }, 50);
    onTestFinished(() => clearInterval(sampler));
    const { lines } = await burst(mori, {});
    expect(new Set(lines.map((l) => l.data.order.orderId)).size).toBe(ORDERS);
    expect(lines).toHaveLength(ORDERS);
    // The shared rate came down from 30 a window (and climbs back a tenth per quiet window).
    expect(Math.min(...rates)).toBeLessThanOrEqual(15);
    // Halving on the first 429s keeps the refusals to a fraction of the calls.
    expect(mori.stats.rateLimited).toBeGreaterThan(0);
    expect(mori.stats.rateLimited).toBeLessThan(ORDERS / 2);
  });
});
