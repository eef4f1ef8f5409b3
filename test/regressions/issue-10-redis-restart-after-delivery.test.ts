import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FETCH_ORDER_JOB, createDeliveriesQueue, createEventsQueue, newEventJobId } from '../../src/queues.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori } from '../helpers/fake-mori.js';
import { startTestRedis } from '../helpers/redis-server.js';
import { startTestWorker } from '../helpers/start-test-worker.js';

const ORDER_ID = '1234567890123456789';

/**
 * Issue 10, point 7: a delivery that succeeded while Redis was going away could not be marked in
 * the ledger, the job failed, and its retry delivered the order a second time.
 */
describe('issue 10: Redis restarting right after a delivery', () => {
  it('holds the ledger mark until Redis is back: the sink gets the order once', async () => {
    // A Redis of this test's own, persisting every write, so a restart loses no job.
    const redis = await startTestRedis({ persistent: true });
    onTestFinished(() => redis.close());
    const mori = await startFakeMori();
    mori.setOrder(finalOrder(ORDER_ID));

    // The sink: takes the envelope, then Redis goes down before the ledger can be written.
    let received = 0;
    const sink = createServer((req, res) => {
      req.resume();
      received += 1;
      void redis.stop().then(() => {
        res.writeHead(200).end('{}');
        setTimeout(() => void redis.start(), 1500);
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => sink.close(() => resolve())));

    const prefix = testPrefix();
    const worker = await startTestWorker({
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: mori.token,
      SINKS: JSON.stringify([
        { type: 'http', name: 'crm', url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook` },
      ]),
    });
    onTestFinished(() => worker.close());
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    onTestFinished(() => connection.disconnect());
    const events = createEventsQueue(connection, prefix);
    const deliveries = createDeliveriesQueue(connection, prefix);
    onTestFinished(async () => {
      await events.close();
      await deliveries.close();
    });
    await events.add(
      FETCH_ORDER_JOB,
      {
        eventId: 'e-restart',
        eventType: 'order.antiAi.completed',
        orderId: ORDER_ID,
        occurredAt: null,
        receivedAt: new Date().toISOString(),
        generation: 'current',
      },
      { jobId: newEventJobId() },
    );

    await eventually(
      async () => (await deliveries.getJobCounts('completed').catch(() => ({ completed: 0 }))).completed === 1,
      {
        what: 'the delivery job to complete after the restart',
        timeoutMs: 20_000,
      },
    );
    expect(received).toBe(1);
    expect(await deliveries.getJobCounts('failed', 'delayed', 'waiting')).toEqual({
      failed: 0,
      delayed: 0,
      waiting: 0,
    });
  });
});
