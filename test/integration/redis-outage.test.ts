import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

const CURRENT = readFileSync(join(import.meta.dirname, '../fixtures/events/current-antiAi-completed.json'), 'utf8');

/** MORI gives up on an answer after 5 s (docs/mori-api.md); a 503 must arrive well before that. */
const MORI_DEADLINE_MS = 5000;

function event(id: string): string {
  return JSON.stringify({ ...JSON.parse(CURRENT), eventId: id });
}

describe('when Redis goes away', () => {
  let redis: TestRedis;
  let server: TestServer;

  beforeAll(async () => {
    // A Redis of this file's own, so stopping it disturbs no other test.
    redis = await startTestRedis();
    server = await buildTestServer({ WEBHOOK_ENQUEUE_TIMEOUT_MS: '3000' }, redis.url);
  });
  afterAll(async () => {
    await server?.close();
    await redis?.close();
  });

  const post = (body: string) => server.postSigned(body);

  it('answers 503 promptly while Redis is down, and 200 again once it is back, without a restart', async () => {
    expect((await post(event('before-outage'))).statusCode).toBe(200);

    await redis.stop();
    const started = Date.now();
    const during = await post(event('during-outage'));
    const took = Date.now() - started;
    expect(during.statusCode).toBe(503);
    expect(during.json()).toMatchObject({ success: false, code: 'QUEUE_UNAVAILABLE' });
    expect(took).toBeLessThan(MORI_DEADLINE_MS);
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await redis.start();
    // MORI's retry of the event refused during the outage is accepted, as a new event.
    const retried = await eventually(
      async () => {
        const res = await post(event('during-outage'));
        return res.statusCode === 200 ? res : undefined;
      },
      { timeoutMs: 15_000, what: 'the receiver to accept events again' },
    );
    expect(retried.json().data).toEqual({ eventId: 'during-outage', duplicate: false });
    await server.promote();
    const jobs = await server.queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.eventId)).toContain('during-outage');
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it("answers 503 before MORI's deadline when Redis is connected but stuck", async () => {
    await eventually(async () => (await post(event('warm-up'))).statusCode === 200, { what: 'Redis to be ready' });
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      // CLIENT PAUSE holds every client's commands: a "connected but not answering" Redis.
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const started = Date.now();
      const res = await post(event('while-stuck'));
      const took = Date.now() - started;
      expect(res.statusCode).toBe(503);
      expect(took).toBeLessThan(MORI_DEADLINE_MS);
      await admin.call('CLIENT', 'UNPAUSE');
    } finally {
      admin.disconnect();
    }
    // The add may have run once Redis woke up; MORI's retry is then a duplicate, never a loss.
    const retry = await eventually(
      async () => {
        const res = await post(event('while-stuck'));
        return res.statusCode === 200 ? res : undefined;
      },
      { what: 'the retry to be accepted' },
    );
    await server.promote();
    const jobs = await server.queue.getJobs(['waiting']);
    expect(jobs.filter((j) => j.data.eventId === 'while-stuck')).toHaveLength(1);
    expect(typeof retry.json().data.duplicate).toBe('boolean');
  });
});
