import { ConfigError, LOCAL_REDIS_URL, type Env } from '../config.js';
import { createDeliveriesQueue, createEventsQueue } from '../queues.js';
import { closeRedis, createRedis, waitUntilReady } from '../redis.js';
import { describeRedisTarget, redisTargetOf, type RedisTarget } from '../redis-target.js';

/** How long a command waits for Redis before saying it cannot reach it. */
const CONNECT_DEADLINE_MS = 5000;

/** The Redis the service uses (REDIS_MODE and its variables), or the embedded one `npm start` runs. */
function cliRedisTarget(env: Env): RedisTarget {
  const problems: string[] = [];
  const target = redisTargetOf(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return target ?? { mode: 'single', url: LOCAL_REDIS_URL };
}

/**
 * The two queues, on the Redis the service uses: REDIS_URL (or sentinels, or a cluster), or the
 * embedded one `npm start` runs when REDIS_URL is unset.
 */
export async function openQueues(env: Env) {
  const target = cliRedisTarget(env);
  const connection = createRedis(target, 'plain', 'mori-cli');
  connection.on('error', () => undefined);
  try {
    await waitUntilReady(connection, CONNECT_DEADLINE_MS);
  } catch {
    await closeRedis(connection);
    throw new Error(
      `cannot reach Redis at ${describeRedisTarget(target)}: set REDIS_URL (or REDIS_MODE and its variables), or start the service (npm start) so its embedded Redis runs`,
    );
  }
  const events = createEventsQueue(connection, env.REDIS_PREFIX);
  const deliveries = createDeliveriesQueue(connection, env.REDIS_PREFIX);
  return {
    events,
    deliveries,
    /** The same connection, for our own keys (the reconciler's seen marks). */
    redis: connection,
    close: async () => {
      await Promise.all([events.close(), deliveries.close()]);
      await closeRedis(connection);
    },
  };
}
