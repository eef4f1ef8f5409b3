import { hostname } from 'node:os';
import { ConfigError, LOCAL_REDIS_PORT, loadConfig, type Config } from './config.js';
import { LocalRedisUnavailableError, startLocalRedis } from './dev/local-redis.js';
import { buildServer } from './http/build-server.js';
import { createResources, once, type Resources } from './lifecycle.js';
import { createLogger, createPrettyLogger, usePrettyLogs, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createQueueMetricsCollector } from './queue-metrics.js';
import { createDeliveriesQueue, createEventsQueue } from './queues.js';
import { closeRedis, createRedis, waitUntilReady, type Redis, type RedisRole } from './redis.js';
import { assertRedisKind, WrongRedisKindError } from './redis-kind-check.js';
import { describeRedisTarget, type RedisTarget } from './redis-target.js';
import { throttledWarning } from './throttled-warning.js';
import { startTelemetry } from './telemetry.js';
import { NO_TRACING, type Tracing } from './tracing.js';
import { startWorkerRole } from './worker/start-worker-role.js';

/** How often start-up says it is still waiting for Redis. */
const REDIS_WAIT_LOG_MS = 5000;

async function waitForRedis(client: Redis, target: RedisTarget, logger: Logger): Promise<void> {
  let lastError: string | undefined;
  const remember = (err: Error) => void (lastError = err.message);
  client.on('error', remember);
  try {
    for (;;) {
      try {
        await waitUntilReady(client, REDIS_WAIT_LOG_MS);
        return;
      } catch {
        logger.warn({ redis: describeRedisTarget(target), err: lastError }, 'waiting for Redis to answer');
      }
    }
  } finally {
    client.off('error', remember);
  }
}

/** Where `npm start` keeps the embedded Redis' data when REDIS_URL is unset. */
const LOCAL_REDIS_DIR = 'data/redis';

async function resolveRedisTarget(config: Config, logger: Logger, resources: Resources): Promise<RedisTarget> {
  if (config.redis) return config.redis;
  const local = await startLocalRedis({ dataDir: LOCAL_REDIS_DIR, port: LOCAL_REDIS_PORT, logger });
  // Stopped last, after every client is closed; and on any exit path, so it never outlives us.
  resources.add('redis-server', 'local redis-server', () => local.stop());
  process.once('exit', () => local.kill());
  return { mode: 'single', url: local.url };
}

/**
 * Starts the roles ROLE asks for and returns the shutdown function; every resource opened goes on
 * one list that closes in the order lifecycle.ts defines.
 */
async function start(config: Config, logger: Logger, tracing: Tracing): Promise<() => Promise<boolean>> {
  const resources = createResources();
  const shutdown = () => resources.closeAll(config.SHUTDOWN_TIMEOUT_MS, logger);
  // Once the workers and queues are closed, so their last spans are in the batch.
  resources.add('connections', 'trace exporter', () => tracing.shutdown());
  try {
    const target = await resolveRedisTarget(config, logger, resources);
    await startRoles(config, logger, target, resources, tracing);
    return shutdown;
  } catch (err) {
    // Leave nothing behind: an embedded redis-server would outlive us otherwise.
    await shutdown();
    throw err;
  }
}

async function startRoles(
  config: Config,
  logger: Logger,
  target: RedisTarget,
  resources: Resources,
  tracing: Tracing,
): Promise<void> {
  const metrics = createMetrics();

  // Each kind of connection fails differently on purpose (src/redis.ts); all close after the queues.
  // Errors repeat on every reconnect while Redis is away: one line per interval, with a count.
  const connect = (role: RedisRole, name: string): Redis => {
    const client = createRedis(target, role, `mori-${name}`);
    client.on('error', throttledWarning(logger, { redis: name }, 'Redis connection error'));
    resources.add('connections', `${name} redis`, () => closeRedis(client));
    return client;
  };
  const producer = connect('producer', 'producer');
  const rateLimitRedis = connect('producer', 'rate-limit');
  // BullMQ reads the server's version when a Queue is created, and the producer has no offline
  // queue, so queues are created only once Redis answers; until then nothing listens, and MORI's
  // retries (or the orchestrator's health checks) see a service that is not up yet.
  await waitForRedis(producer, target, logger);
  await assertRedisKind(producer, target);
  logger.info({ redis: describeRedisTarget(target), mode: target.mode }, 'Redis answers');
  const queue = createEventsQueue(producer, config.REDIS_PREFIX, tracing.bullmq);
  queue.on('error', throttledWarning(logger, { queue: 'events' }, 'events queue error'));
  // A view of the deliveries queue for the gauges and the dashboard; workers add to it on their own connection.
  const deliveriesView = createDeliveriesQueue(producer, config.REDIS_PREFIX);
  deliveriesView.on('error', throttledWarning(logger, { queue: 'deliveries' }, 'deliveries queue error'));
  const queues = [queue, deliveriesView];
  resources.add('queues', 'queues', () => Promise.all(queues.map((q) => q.close())));
  const collectMetrics = createQueueMetricsCollector(queues, metrics, { redis: producer, prefix: config.REDIS_PREFIX });

  const server = await buildServer({
    config,
    logger,
    metrics,
    queue,
    redis: producer,
    rateLimitRedis,
    collectMetrics,
    adminQueues: queues,
    tracing,
  });
  resources.add('intake', 'http server', () => server.close());

  if (config.runsWorker) {
    const connection = connect('worker', 'worker');
    const plain = connect('plain', 'plain');
    const { workers, sinks, mori } = startWorkerRole({
      config,
      connection,
      redis: plain,
      out: process.stdout,
      metrics,
      logger,
      name: `${hostname()}:${process.pid}`,
      tracing,
    });
    resources.add('work', 'workers', () => workers.close());
    resources.add('outputs', 'sinks', () => Promise.all(sinks.map((s) => s.close())));
    resources.add('outputs', 'mori client', () => mori.close());
    logger.info(
      { sinks: sinks.map((s) => `${s.type}:${s.name}`), concurrency: config.WORKER_CONCURRENCY },
      'worker started',
    );
  }

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
  const stdoutIsTaken = config.runsWorker && config.sinks.some((s) => s.type === 'stdout');
  const logStream = stdoutIsTaken ? process.stderr : process.stdout;
  const logger = usePrettyLogs(config.LOG_FORMAT, logStream.isTTY, process.env.NODE_ENV)
    ? await createPrettyLogger(config.LOG_LEVEL, { stdoutIsTaken, colorize: logStream.isTTY })
    : createLogger(config.LOG_LEVEL, { stdoutIsTaken });
  // A stray rejection (a late error of a connection being replaced, a callback nobody awaits) is a
  // bug to fix, not a reason to drop the jobs this process holds: logged, and the process goes on.
  // An uncaught exception may have left any state half-changed: logged, and the process exits,
  // for the orchestrator to restart it; its jobs stall and are taken up by another worker.
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
    const tracing = await startTelemetry(process.env, config.ROLE);
    if (tracing !== NO_TRACING) logger.info('OpenTelemetry traces on (the OTEL_* variables ask for them)');
    stop = await start(config, logger, tracing);
  } catch (err) {
    if (err instanceof LocalRedisUnavailableError || err instanceof WrongRedisKindError)
      process.stderr.write(`${err.message}\n`);
    else logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

await main();
