import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { closeRedis, createRedis } from '../../src/redis.js';
import type { Workers } from '../../src/worker/start-workers.js';
import { startWorkerRole } from '../../src/worker/start-worker-role.js';

/** Backoff bases small enough that retry tests run in seconds (every one is configurable). */
export const FAST_RETRIES: Record<string, string> = {
  MORI_RETRY_BASE_MS: '50',
  MORI_RETRY_MAX_DELAY_MS: '200',
  ORDER_PENDING_BASE_MS: '50',
  ORDER_PENDING_MAX_DELAY_MS: '200',
  SINK_RETRY_BASE_MS: '50',
  SINK_RETRY_MAX_DELAY_MS: '200',
  // A budget no test reaches unless it means to: 100,000 look-ups a minute.
  MORI_RATE_LIMIT_PER_MINUTE: '100000',
  MORI_BUDGET_SHARE: '1',
  // The reconciler only where a test asks for it: the fake MORI serves no order list.
  RECONCILE_INTERVAL_MS: '0',
  MORI_TIMEOUT_MS: '2000',
};

export interface TestWorker {
  config: Config;
  workers: Workers;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The real workers (BullMQ, undici, sinks) in this process, configured from `env`. */
export async function startTestWorker(env: Record<string, string>): Promise<TestWorker> {
  const config = loadConfig({ ROLE: 'worker', LOG_LEVEL: 'silent', ...FAST_RETRIES, ...env });
  if (!config.runsWorker) throw new Error(`startTestWorker needs ROLE=worker or all; got ${config.ROLE}`);
  const connection = createRedis(config.redis!, 'worker');
  const plain = createRedis(config.redis!, 'plain');
  connection.on('error', () => undefined);
  plain.on('error', () => undefined);
  const metrics = createMetrics();
  const { workers, sinks, mori } = startWorkerRole({
    config,
    connection,
    redis: plain,
    out: process.stdout,
    metrics,
    logger: createLogger('silent'),
  });
  await Promise.all([workers.events.waitUntilReady(), workers.deliveries.waitUntilReady()]);
  return {
    config,
    workers,
    metrics,
    close: async () => {
      await workers.close(true);
      await Promise.all(sinks.map((s) => s.close()));
      await mori.close();
      await closeRedis(connection);
      await closeRedis(plain);
    },
  };
}
