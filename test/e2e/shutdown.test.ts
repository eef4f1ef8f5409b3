import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { createEventsQueue } from '../../src/queues.js';
import { closeRedis, createRedis, waitUntilReady } from '../../src/redis.js';
import { TEST_SECRET, testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori } from '../helpers/fake-mori.js';
import { postSignedTo } from '../helpers/post-signed-to.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';
import getPort from 'get-port';
import { startService } from '../helpers/service-process.js';
import { FAST_RETRIES } from '../helpers/start-test-worker.js';
import { tempDir } from '../helpers/temp-dir.js';

const ORDER_ID = '1234567890123456789';

describe('on SIGTERM with a job in flight', () => {
  it('stops taking webhooks, finishes the job, closes everything and exits 0: nothing lost, nothing twice', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix();
    onTestFinished(() => deleteKeysWithPrefix(redisUrl, prefix));
    const mori = await startFakeMori();
    const order = finalOrder(ORDER_ID);
    mori.setOrder(order);
    mori.script(ORDER_ID, [{ order, delayMs: 1500 }]);
    const file = join(tempDir('shutdown-'), 'orders.jsonl');
    const service = await startService({
      ...FAST_RETRIES,
      ROLE: 'all',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: mori.token,
      MORI_WEBHOOK_SECRET: TEST_SECRET,
      SINKS: JSON.stringify([{ type: 'file', name: 'archive', path: file }]),
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    onTestFinished(() => void service.child.kill('SIGKILL'));

    const body = JSON.stringify(buildSampleEvent(order, 'current', 'evt-shutdown'));
    const post = () => postSignedTo(`${service.url}/webhooks/mori`, body, TEST_SECRET);
    expect((await post()).status).toBe(200);
    await eventually(() => mori.requestsFor(ORDER_ID).length === 1, { what: 'the look-up to be in flight' });

    service.child.kill('SIGTERM');
    await eventually(() => service.output().includes('shutting down'), { what: 'the shutdown to begin' });
    // New webhooks are refused from now on (503 while closing, then no listener): MORI retries elsewhere.
    const during = await post().then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(during);

    expect(await service.exited).toBe(0);
    expect(existsSync(file)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).data.event.eventId).toBe('evt-shutdown');
    expect(service.output()).toContain('"clean":true');

    const producer = createRedis(redisUrl, 'producer');
    onTestFinished(() => closeRedis(producer));
    await waitUntilReady(producer, 5000);
    const queue = createEventsQueue(producer, prefix);
    onTestFinished(() => queue.close());
    expect(await queue.getJobCounts('completed', 'active', 'waiting', 'failed')).toEqual({
      completed: 1,
      active: 0,
      waiting: 0,
      failed: 0,
    });
  });
});

describe('on SIGTERM while start-up still waits for Redis', () => {
  it('exits at once, having said what it waits for', async () => {
    const child = spawn(process.execPath, [inject('builtMain')], {
      env: {
        PATH: process.env.PATH ?? '',
        ROLE: 'api',
        REDIS_URL: `redis://127.0.0.1:${await getPort()}`,
        MORI_WEBHOOK_SECRET: TEST_SECRET,
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTestFinished(() => void child.kill('SIGKILL'));
    await eventually(() => output.includes('waiting for Redis to answer'), {
      timeoutMs: 15_000,
      what: 'the start-up to wait for Redis',
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"clean":true');
  });
});
