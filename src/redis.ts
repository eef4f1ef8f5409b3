import { Redis, type RedisOptions } from 'ioredis';

/**
 * The kinds of Redis connection we open. Each fails differently on purpose (docs/field-notes.md,
 * "BullMQ production checklist"):
 * - `producer`: the webhook's enqueue, the readiness probe and the rate-limit store. No offline queue
 *   and short timeouts, so a command fails at once while Redis is away and the route answers 503
 *   well inside MORI's 5 s.
 * - `worker`: BullMQ workers block on Redis; they need `maxRetriesPerRequest: null` and an offline
 *   queue, and reconnect forever.
 * - `plain`: everything else (delivery ledger, sinks, CLI): commands wait for a reconnect, but each
 *   is bounded by a timeout so a job fails and retries rather than hanging.
 */
export type RedisRole = 'producer' | 'worker' | 'plain';

/** ioredis' documented default reconnect curve, capped: reconnect forever without human help. */
const reconnectDelay = (times: number): number => Math.min(Math.max(2 ** times, 1000), 20_000);
/** The producer reconnects faster: every second of absence is a 503 MORI must retry. */
const producerReconnectDelay = (times: number): number => Math.min(times * 100, 1000);

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  producer: {
    // No enableAutoPipelining: measured with `npm run bench` (100 connections) it cut the webhook
    // from ~10.6k to ~7.9k req/s; each request is already one round trip (docs/field-notes.md agrees).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1500,
    connectTimeout: 2000,
    retryStrategy: producerReconnectDelay,
  },
  worker: {
    maxRetriesPerRequest: null,
    connectTimeout: 10_000,
    retryStrategy: reconnectDelay,
  },
  plain: {
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    connectTimeout: 5000,
    retryStrategy: reconnectDelay,
  },
};

export function createRedis(url: string, role: RedisRole, connectionName = `mori-${role}`): Redis {
  return new Redis(url, { ...ROLE_OPTIONS[role], connectionName });
}

/** Closes a client without waiting on a reconnect loop that might never end (bullmq#833). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

export type { Redis };

/**
 * Resolves once the client is connected, or rejects after `timeoutMs` (it keeps reconnecting).
 * Not `events.once(client, 'ready', { signal })`: that rejects on the first 'error', and ioredis
 * emits one for every failed reconnect, so a Redis still starting would fail the wait at once.
 */
export function waitUntilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
