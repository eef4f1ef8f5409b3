import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createOrderHistory } from '../../src/history/order-history.js';
import { readOrderHistory, recentOrders } from '../../src/history/read-order-history.js';
import { historyIndexKey, historyKey } from '../../src/keys.js';
import { closeRedis, createRedis, type Redis } from '../../src/redis.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';

const DAY_MS = 24 * 3600 * 1000;
let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = createRedis(inject('redisUrl'), 'plain');
  prefix = testPrefix();
});
afterEach(async () => {
  await deleteKeysWithPrefix(inject('redisUrl'), prefix);
  await closeRedis(redis);
});

const attempt = (n: number, error?: string) =>
  ({
    kind: 'attempt',
    at: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(),
    sink: 'crm',
    deliveryId: 'dlv_x',
    jobId: 'dlv_x-crm',
    attempt: n,
    outcome: 'failed',
    durationMs: 5,
    ...(error ? { error } : {}),
  }) as const;

describe('the order history', () => {
  it('keeps at most 500 entries per order, the newest, and expires with the dedupe window', async () => {
    const history = createOrderHistory(redis, prefix, 7 * DAY_MS);
    for (let n = 1; n <= 510; n++) await history.record('42', [attempt(n)]);
    const t = await readOrderHistory(redis, prefix, '42');
    expect(t?.entries).toHaveLength(500);
    expect(t?.entries[0]).toMatchObject({ attempt: 11 });
    expect(t?.entries.at(-1)).toMatchObject({ attempt: 510 });
    const ttl = await redis.pttl(historyKey(prefix, '42'));
    expect(ttl).toBeGreaterThan(7 * DAY_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(7 * DAY_MS);
    expect(await redis.pttl(historyIndexKey(prefix))).toBeGreaterThan(0);
  });

  it('stores no presigned URL and no secret field, in entries or in the envelope', async () => {
    const history = createOrderHistory(redis, prefix, DAY_MS);
    const url = 'https://bucket.example/f.png?X-Amz-Expires=3600&X-Amz-Signature=abc123';
    await history.record('42', [attempt(1, `fetch of ${url} failed`)], {
      data: { order: { thumbnailImageUrl: url, note: url, apiToken: 'sk_live_x' } },
    });
    const raw = JSON.stringify([
      await redis.lrange(historyKey(prefix, '42'), 0, -1),
      await redis.get(`${prefix}:history:42:envelope`),
    ]);
    expect(raw).not.toContain('X-Amz-Signature');
    expect(raw).not.toContain('sk_live_x');
    expect(raw).toContain('[redacted]');
  });

  it('lists the orders with the newest activity first, and knows nothing of others', async () => {
    const history = createOrderHistory(redis, prefix, DAY_MS);
    await history.record('9', [attempt(1)]);
    // A later millisecond for the second order: ties would sort by id, which is not what is tested.
    const first = Date.now();
    await expect.poll(() => Date.now()).toBeGreaterThan(first);
    await history.record('1', [attempt(1)]);
    await history.countDuplicate('3', 'evt-3');
    expect((await recentOrders(redis, prefix, 10)).map((o) => o.orderId)).toEqual(['1', '9']);
    expect(await readOrderHistory(redis, prefix, '4')).toBeUndefined();
    expect((await readOrderHistory(redis, prefix, '3'))?.duplicates).toEqual({ 'evt-3': 1 });
  });
});
