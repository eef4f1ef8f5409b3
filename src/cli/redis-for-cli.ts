import { LOCAL_REDIS_URL, type Env } from '../config.js';
import { createDeliveriesQueue, createEventsQueue } from '../queues.js';
import { closeRedis, createRedis, waitUntilReady } from '../redis.js';

/** How long a command waits for Redis before saying it cannot reach it. */
const CONNECT_DEADLINE_MS = 5000;

/**
 * The two queues, on the Redis the service uses: REDIS_URL, or the embedded one `npm start` runs
 * when REDIS_URL is unset.
 */
export async function openQueues(env: Env) {
  const url = env.REDIS_URL ?? LOCAL_REDIS_URL;
  const connection = createRedis(url, 'plain', 'mori-cli');
  connection.on('error', () => undefined);
  try {
    await waitUntilReady(connection, CONNECT_DEADLINE_MS);
  } catch {
    await closeRedis(connection);
    throw new Error(
      `cannot reach Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}: set REDIS_URL, or start the service (npm start) so its embedded Redis runs`,
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
