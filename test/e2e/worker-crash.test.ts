import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { createEventsQueue, FETCH_ORDER_JOB, newEventJobId } from '../../src/queues.js';
import { closeRedis, createRedis, waitUntilReady } from '../../src/redis.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { FAST_RETRIES } from '../helpers/start-test-worker.js';
import { tempDir } from '../helpers/temp-dir.js';

const ORDER_ID = '1234567890123456789';

describe('when a worker process dies mid-job', () => {
  it('another worker takes the job up and the order is delivered once', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix();
    onTestFinished(() => deleteKeysWithPrefix(redisUrl, prefix));
    const mori: FakeMori = await startFakeMori();
    const order = finalOrder(ORDER_ID);
    mori.setOrder(order);
    // The first look-up hangs, so the first worker is killed while it holds the job.
    mori.script(ORDER_ID, [{ delayMs: 10_000 }]);
    const file = join(tempDir('crash-'), 'orders.jsonl');
    const env = {
      ...FAST_RETRIES,
      ROLE: 'worker',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: mori.token,
      MORI_TIMEOUT_MS: '15000',
      SINKS: JSON.stringify([{ type: 'file', name: 'archive', path: file }]),
      // Short locks so the test sees the stalled-job recovery in seconds, not a minute.
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };

    const first: ServiceProcess = await startService(env);
    onTestFinished(() => void first.child.kill('SIGKILL'));
    const producer = createRedis(redisUrl, 'producer');
    onTestFinished(() => closeRedis(producer));
    await waitUntilReady(producer, 5000);
    const queue = createEventsQueue(producer, prefix);
    onTestFinished(() => queue.close());
    const event = buildSampleEvent(order, 'current', 'evt-crash');
    await queue.add(
      FETCH_ORDER_JOB,
      {
        eventId: 'evt-crash',
        eventType: String(event.eventType),
        orderId: ORDER_ID,
        occurredAt: null,
        receivedAt: new Date().toISOString(),
        generation: 'current',
      },
      { jobId: newEventJobId() },
    );

    await eventually(() => mori.requestsFor(ORDER_ID).length === 1, { what: 'the first worker to start the look-up' });
    expect(await queue.getActiveCount()).toBe(1);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startService(env);
    onTestFinished(async () => {
      second.child.kill('SIGTERM');
      await second.exited;
    });
    // The file sink creates the file before it writes: wait for a whole line, not the file.
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), {
      timeoutMs: 20_000,
      what: 'the second worker to deliver the order',
    });
    await eventually(async () => (await queue.getCompletedCount()) === 1, { what: 'the job to complete' });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).data.order.orderId).toBe(ORDER_ID);
    expect(await queue.getFailedCount()).toBe(0);
  });
});
