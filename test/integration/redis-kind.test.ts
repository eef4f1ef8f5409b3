import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { closeRedis, createRedis, waitUntilReady } from '../../src/redis.js';
import { assertRedisKind, WrongRedisKindError } from '../../src/redis-kind-check.js';
import { buildTestServer } from '../helpers/build-test-server.js';
import { rejectionOf } from '../helpers/rejection-of.js';
import { startRedisProcess, topologyUnavailable } from '../helpers/redis-topology.js';
import { startService } from '../helpers/service-process.js';

/**
 * A single-mode REDIS_URL that names a node which answers PING but cannot hold our keys: a
 * replica, a Sentinel, a Redis Cluster node. Each is refused at start-up with what to configure,
 * and /readyz says 503 wherever this process cannot write.
 */
async function checkKind(url: string): Promise<void> {
  const client = createRedis(url, 'plain', 'kind-test');
  client.on('error', () => undefined);
  onTestFinished(() => closeRedis(client));
  await waitUntilReady(client, 5000);
  return assertRedisKind(client, { mode: 'single', url });
}

const refusal = async (url: string) => (await rejectionOf(checkKind(url), WrongRedisKindError)).message;

const missing = topologyUnavailable();

describe.skipIf(missing !== undefined)(
  `a REDIS_URL of the wrong kind${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('a replica is refused at start-up, naming its master and REDIS_MODE=sentinel; its /readyz says 503', async () => {
      const master = new URL(inject('redisUrl'));
      const replica = await startRedisProcess(['--replicaof', master.hostname, master.port]);
      onTestFinished(() => replica.close());
      expect(await refusal(replica.url)).toMatch(
        /REDIS_URL points at a replica \(its master is .+\).*REDIS_MODE=sentinel/,
      );

      const failed = await rejectionOf(
        startService({ ROLE: 'api', REDIS_URL: replica.url, MORI_WEBHOOK_ALLOW_UNSIGNED: 'true' }),
        Error,
      );
      expect(failed.message).toMatch(/exited with 1[\s\S]*REDIS_URL points at a replica/);

      const server = await buildTestServer({}, replica.url);
      onTestFinished(() => server.close());
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ success: false, code: 'QUEUE_UNAVAILABLE' });
    });

    it('a Sentinel is refused, naming REDIS_SENTINELS and the master it watches', async () => {
      const sentinel = await startRedisProcess([], { sentinelOf: inject('redisUrl') });
      onTestFinished(() => sentinel.close());
      expect(await refusal(sentinel.url)).toMatch(
        /REDIS_URL points at a Redis Sentinel.*REDIS_MODE=sentinel, REDIS_SENTINELS=.*REDIS_SENTINEL_NAME=<the master's name: probe>/,
      );
    });

    it('a Redis Cluster node is refused, naming REDIS_MODE=cluster and REDIS_CLUSTER_NODES', async () => {
      const node = await startRedisProcess(['--cluster-enabled', 'yes']);
      onTestFinished(() => node.close());
      expect(await refusal(node.url)).toMatch(
        /REDIS_URL points at a Redis Cluster node.*REDIS_MODE=cluster and REDIS_CLUSTER_NODES/,
      );
    });

    it('a master passes, and its /readyz says 200', async () => {
      await expect(checkKind(inject('redisUrl'))).resolves.toBeUndefined();
      const server = await buildTestServer();
      onTestFinished(() => server.close());
      expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    });
  },
);
