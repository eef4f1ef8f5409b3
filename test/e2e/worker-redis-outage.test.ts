import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { buildTestServer, testPrefix, type TestServer } from '../helpers/build-test-server.js';
import { readJsonLines } from '../helpers/json-lines.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestWorker, type TestWorker } from '../helpers/start-test-worker.js';

describe('when Redis restarts under a running receiver and worker', () => {
  let redis: TestRedis;
  let mori: FakeMori;
  let server: TestServer;
  let worker: TestWorker;
  const dir = mkdtempSync(join(tmpdir(), 'redis-restart-'));
  const file = join(dir, 'orders.jsonl');

  beforeAll(async () => {
    // A Redis of this file's own, so stopping it disturbs no other test.
    redis = await startTestRedis();
    mori = await startFakeMori();
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: testPrefix(),
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: mori.token,
      SINKS: JSON.stringify([{ type: 'file', name: 'archive', path: file }]),
    };
    server = await buildTestServer({ ...env, ROLE: 'api' }, redis.url);
    worker = await startTestWorker(env);
  });
  afterAll(async () => {
    await worker?.close();
    await server?.close();
    await mori?.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (orderId: string) => {
    const order = finalOrder(orderId);
    mori.setOrder(order);
    return (await server.postSigned(JSON.stringify(buildSampleEvent(order)))).statusCode;
  };
  const delivered = () => readJsonLines(file).map((l) => l.data.order.orderId);

  it('both reconnect by themselves and the next event is delivered', async () => {
    expect(await post('111')).toBe(200);
    await eventually(() => delivered().includes('111'), { what: 'the first delivery' });

    await redis.stop();
    expect(await post('222')).toBe(503);
    await redis.start();

    await eventually(async () => (await post('333')) === 200, {
      timeoutMs: 20_000,
      what: 'the receiver to accept again',
    });
    await eventually(() => delivered().includes('333'), { timeoutMs: 30_000, what: 'the worker to deliver again' });
    expect(delivered()).toEqual(['111', '333']);
  });
});
