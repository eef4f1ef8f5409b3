import { hostname } from 'node:os';
import { ConfigError, LOCAL_REDIS_PORT, loadConfig, type Config } from './config.js';
import { LocalRedisUnavailableError, startLocalRedis } from './dev/local-redis.js';
import { buildServer } from './http/build-server.js';
import { closeAll, once, type Closer } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createQueueMetricsCollector } from './queue-metrics.js';
import { createDeliveriesQueue, createEventsQueue } from './queues.js';
import { closeRedis, createRedis, waitUntilReady, type Redis, type RedisRole } from './redis.js';
import { createSinks } from './sinks/create-sinks.js';
import { archiveDepsFor } from './worker/archive-deps-for.js';
import { createWorkerMoriClient } from './worker/create-worker-mori-client.js';
import { startWorkers } from './worker/start-workers.js';

/** How often start-up says it is still waiting for Redis. */
const REDIS_WAIT_LOG_MS = 5000;

async function waitForRedis(client: Redis, url: string, logger: Logger): Promise<void> {
  for (;;) {
    try {
      await waitUntilReady(client, REDIS_WAIT_LOG_MS);
      return;
    } catch {
      logger.warn({ redis: url.replace(/\/\/[^@]*@/, '//***@') }, 'waiting for Redis to answer');
    }
  }
}

/** Where `npm start` keeps the embedded Redis' data when REDIS_URL is unset. */
const LOCAL_REDIS_DIR = 'data/redis';

async function resolveRedisUrl(config: Config, logger: Logger, closers: Closer[]): Promise<string> {
  if (config.REDIS_URL) return config.REDIS_URL;
  const local = await startLocalRedis({ dataDir: LOCAL_REDIS_DIR, port: LOCAL_REDIS_PORT, logger });
  // Stopped last, after every client is closed; and on any exit path, so it never outlives us.
  closers.push({ name: 'local redis-server', close: () => local.stop() });
  process.once('exit', () => local.kill());
  return local.url;
}

/**
 * Starts the roles ROLE asks for and returns the shutdown function. Order of shutdown: stop taking
 * webhooks and finish requests in flight, let workers finish (or hand back) their jobs, then close
 * queues and Redis clients, and finally the embedded Redis if we started one.
 */
async function start(config: Config, logger: Logger): Promise<() => Promise<boolean>> {
  const localRedis: Closer[] = [];
  const closers: Closer[] = [];
  const redisUrl = await resolveRedisUrl(config, logger, localRedis);
  try {
    return await startRoles(config, logger, redisUrl, closers, localRedis);
  } catch (err) {
    // Leave nothing behind: an embedded redis-server would outlive us otherwise.
    await closeAll([...closers, ...localRedis], config.SHUTDOWN_TIMEOUT_MS, logger);
    throw err;
  }
}

async function startRoles(
  config: Config,
  logger: Logger,
  redisUrl: string,
  closers: Closer[],
  localRedis: Closer[],
): Promise<() => Promise<boolean>> {
  const metrics = createMetrics();

  // Each kind of connection fails differently on purpose (src/redis.ts); all close after the queues.
  const clients: Closer[] = [];
  const connect = (role: RedisRole, name: string): Redis => {
    const client = createRedis(redisUrl, role, `mori-${name}`);
    client.on('error', (err) => logger.warn({ redis: name, err: err.message }, 'Redis connection error'));
    clients.push({ name: `${name} redis`, close: () => closeRedis(client) });
    return client;
  };
  const producer = connect('producer', 'producer');
  const rateLimitRedis = connect('producer', 'rate-limit');
  // BullMQ reads the server's version when a Queue is created, and the producer has no offline
  // queue, so queues are created only once Redis answers; until then nothing listens, and MORI's
  // retries (or the orchestrator's health checks) see a service that is not up yet.
  await waitForRedis(producer, redisUrl, logger);
  const queue = createEventsQueue(producer, config.REDIS_PREFIX);
  queue.on('error', (err) => logger.warn({ err: err.message }, 'events queue error'));
  // A view of the deliveries queue for the gauges and the dashboard; workers add to it on their own connection.
  const deliveriesView = createDeliveriesQueue(producer, config.REDIS_PREFIX);
  const queues = [queue, deliveriesView];
  const collectMetrics = createQueueMetricsCollector(queues, metrics);

  const server = await buildServer({
    config,
    logger,
    metrics,
    queue,
    redis: producer,
    rateLimitRedis,
    collectMetrics,
    adminQueues: queues,
  });
  closers.push({ name: 'http server', close: () => server.close() });

  const token = config.MORI_API_TOKEN;
  if (config.runsWorker && token !== undefined) {
    const connection = connect('worker', 'worker');
    const plain = connect('plain', 'plain');
    const mori = createWorkerMoriClient({ ...config, MORI_API_TOKEN: token }, metrics, logger);
    const sinks = createSinks(config.sinks, {
      redis: plain,
      out: process.stdout,
      archive: archiveDepsFor(mori, metrics),
    });
    const workers = startWorkers({
      config,
      connection,
      redis: plain,
      mori,
      sinks,
      metrics,
      logger,
      name: `${hostname()}:${process.pid}`,
    });
    closers.push(
      { name: 'workers', close: () => workers.close() },
      { name: 'sinks', close: () => Promise.all(sinks.map((s) => s.close())) },
      { name: 'mori client', close: () => mori.close() },
    );
    logger.info(
      { sinks: sinks.map((s) => `${s.type}:${s.name}`), concurrency: config.WORKER_CONCURRENCY },
      'worker started',
    );
  }
  closers.push({ name: 'queues', close: () => Promise.all(queues.map((q) => q.close())) }, ...clients);

  if (config.runsApi && config.MORI_WEBHOOK_SECRET.length === 0) {
    logger.warn(
      'MORI_WEBHOOK_ALLOW_UNSIGNED=true and no secret: accepting UNSIGNED webhooks; never do this in production',
    );
  }
  await server.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    {
      role: config.ROLE,
      webhookPath: config.runsApi ? config.WEBHOOK_PATH : undefined,
      signed: config.MORI_WEBHOOK_SECRET.length > 0,
    },
    'mori-webhook-receiver started',
  );
  return () => closeAll([...closers, ...localRedis], config.SHUTDOWN_TIMEOUT_MS, logger);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL, {
    stdoutIsTaken: config.runsWorker && config.sinks.some((s) => s.type === 'stdout'),
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });

  // Signals are handled from the first moment: a SIGTERM while start-up still waits for Redis exits
  // at once (nothing is in flight yet), and the exit hook stops an embedded Redis.
  let stop: (() => Promise<boolean>) | undefined;
  const shutdown = once(async () => {
    logger.info('shutting down');
    const clean = stop ? await stop() : true;
    logger.info({ clean }, 'shut down');
    process.exit(clean ? 0 : 1);
  });
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());

  try {
    stop = await start(config, logger);
  } catch (err) {
    if (err instanceof LocalRedisUnavailableError) process.stderr.write(`${err.message}\n`);
    else logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

await main();
