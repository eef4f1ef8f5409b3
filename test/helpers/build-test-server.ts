import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServer } from '../../src/http/build-server.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { createDeliveriesQueue, createEventsQueue, type EventJobData } from '../../src/queues.js';
import { closeRedis, createRedis, waitUntilReady, type Redis } from '../../src/redis.js';
import { createIntakePromoter } from '../../src/worker/promote-intake.js';
import { moriSign } from './mori-signer.js';
import { deleteKeysWithPrefix } from './redis-keys.js';

export const TEST_SECRET = 'whsec_test_secret_for_mori_receiver';

export interface TestServer {
  app: FastifyInstance;
  config: Config;
  queue: Queue<EventJobData>;
  metrics: Metrics;
  producer: Redis;
  /**
   * POSTs `body` to the webhook route signed with TEST_SECRET, as MORI would: the one signed-post
   * helper. `secret` signs with another key (false: no signature); `headers` are sent last, so a
   * test can replace the signature or the content type.
   */
  postSigned(body: string, options?: PostOptions): Promise<LightMyRequestResponse>;
  /**
   * What a worker's promoter does (src/worker/promote-intake.ts), until the intake is empty: the
   * events accepted so far become jobs on `queue`. Resolves to how many entries it handled.
   */
  promote(): Promise<number>;
  close(): Promise<void>;
}

interface PostOptions {
  secret?: string | false;
  headers?: Record<string, string>;
}

/** A unique key prefix per test, still a hash tag, so tests never see each other's keys. */
export function testPrefix(): string {
  return `{t-${randomUUID().slice(0, 12)}}`;
}

/** buildServer with a test configuration, its own Redis prefix and clients; close() removes its keys. */
export async function buildTestServer(
  env: Record<string, string> = {},
  redisUrl = inject('redisUrl'),
): Promise<TestServer> {
  const config = loadConfig({
    ROLE: 'api',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: testPrefix(),
    MORI_WEBHOOK_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const producer = createRedis(redisUrl, 'producer');
  const rateLimitRedis = createRedis(redisUrl, 'producer', 'mori-rate-limit');
  producer.on('error', () => undefined);
  rateLimitRedis.on('error', () => undefined);
  await Promise.all([waitUntilReady(producer, 5000), waitUntilReady(rateLimitRedis, 5000)]);
  const queue = createEventsQueue(producer, config.REDIS_PREFIX);
  queue.on('error', () => undefined);
  // The dashboard's view of the deliveries queue, as main.ts gives it.
  const deliveries = createDeliveriesQueue(producer, config.REDIS_PREFIX);
  deliveries.on('error', () => undefined);
  const metrics = createMetrics();
  const app = await buildServer({
    config,
    logger: createLogger('silent'),
    metrics,
    queue,
    redis: producer,
    rateLimitRedis,
    adminQueues: [queue, deliveries],
  });
  await app.ready();
  const promoter = createIntakePromoter({
    redis: producer,
    queue,
    prefix: config.REDIS_PREFIX,
    dedupeTtlMs: config.DEDUPE_WINDOW_SECONDS * 1000,
    consumer: 'test',
    logger: createLogger('silent'),
  });
  return {
    app,
    config,
    queue,
    metrics,
    producer,
    postSigned: (body, { secret = TEST_SECRET, headers = {} } = {}) =>
      app.inject({
        method: 'POST',
        url: config.WEBHOOK_PATH,
        payload: body,
        headers: {
          'content-type': 'application/json',
          ...(secret === false ? {} : { 'x-moribiz-signature': moriSign(body, secret) }),
          ...headers,
        },
      }),
    promote: async () => {
      let total = 0;
      for (let n = await promoter.promoteOnce(); n > 0; n = await promoter.promoteOnce()) total += n;
      return total;
    },
    close: async () => {
      await app.close();
      await queue.close().catch(() => undefined);
      await deliveries.close().catch(() => undefined);
      await deleteKeysWithPrefix(redisUrl, config.REDIS_PREFIX).catch(() => undefined);
      await closeRedis(rateLimitRedis);
      await closeRedis(producer);
    },
  };
}
