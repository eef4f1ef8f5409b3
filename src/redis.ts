import { Cluster, Redis as SingleRedis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { nodeAuthOf, type NodeAuth, type RedisTarget } from './redis-target.js';

/** A client of any topology: one node (direct or found through Sentinel) or a whole Redis Cluster. */
export type Redis = SingleRedis | Cluster;

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

/**
 * A master that became a replica (a failover, a demoted old master) answers every write with
 * READONLY. Reconnecting makes a Sentinel client ask the sentinels for the new master; `2` also
 * resends the failed command there. For a direct URL the reconnect finds the same replica, and
 * `/readyz` reports it (README, "Redis topologies").
 */
const reconnectOnReadonly = (err: Error): 2 | false => (err.message.startsWith('READONLY') ? 2 : false);

/**
 * How a cluster client rides out a failover (README, "Redis topologies"): MOVED and ASK are
 * followed at once (the slot map is refreshed), while CLUSTERDOWN and TRYAGAIN, which last until
 * a replica is promoted (cluster-node-timeout), wait between tries instead of spinning.
 */
const CLUSTER_FAILOVER_OPTIONS: ClusterOptions = {
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 300,
  retryDelayOnTryAgain: 200,
  retryDelayOnMoved: 0,
  maxRedirections: 16,
  slotsRefreshTimeout: 2000,
};

/** Clients that closeRedis is closing: their 'end' is ours, and must not be undone. */
const closing = new WeakSet<Redis>();

/** How long a Sentinel client that ended by itself waits before connecting again: the producer's cap. */
const RECONNECT_AFTER_END_MS = 1000;

/**
 * ioredis ends a Sentinel client for good when its connector is disconnected in the middle of a
 * connect. The FailoverDetector of the connection that just died does exactly that when
 * +switch-master arrives while the client is already reconnecting (ioredis 6:
 * SentinelConnector.connect throws "Connection is closed.", and Redis' connect callback sets the
 * status to "end"). The failover test saw it under load: the receiver answered 503 for the rest of
 * the run. A client whose status goes from connecting straight to end, without closeRedis, is
 * connected again.
 */
function reconnectAfterUnexpectedEnd(client: SingleRedis): SingleRedis {
  let connecting = false;
  client.on('connecting', () => (connecting = true));
  for (const status of ['connect', 'ready', 'close', 'reconnecting']) client.on(status, () => (connecting = false));
  client.on('end', () => {
    if (!connecting || closing.has(client)) return;
    connecting = false;
    setTimeout(() => {
      if (client.status === 'end' && !closing.has(client)) client.connect().catch(() => undefined);
    }, RECONNECT_AFTER_END_MS).unref();
  });
  return client;
}

/** Opens a client of `role` on the target; a plain string is one node's URL (a sink's own Redis). */
export function createRedis(target: RedisTarget | string, role: RedisRole, connectionName = `mori-${role}`): Redis {
  const t: RedisTarget = typeof target === 'string' ? { mode: 'single', url: target } : target;
  const { retryStrategy, enableOfflineQueue, ...nodeOptions } = ROLE_OPTIONS[role];
  switch (t.mode) {
    case 'single':
      return new SingleRedis(t.url, { ...ROLE_OPTIONS[role], connectionName, reconnectOnError: reconnectOnReadonly });
    case 'sentinel': {
      const dataNode: NodeAuth & { db?: number } = t.url === undefined ? { tls: false } : nodeAuthOf(t.url);
      const client = new SingleRedis({
        ...ROLE_OPTIONS[role],
        connectionName,
        sentinels: [...t.sentinels],
        name: t.name,
        ...(t.sentinelPassword !== undefined ? { sentinelPassword: t.sentinelPassword } : {}),
        ...(dataNode.username !== undefined ? { username: dataNode.username } : {}),
        ...(dataNode.password !== undefined ? { password: dataNode.password } : {}),
        ...(dataNode.db !== undefined ? { db: dataNode.db } : {}),
        ...(dataNode.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        // Sentinels announce a new master on +switch-master; the client moves at once instead
        // of waiting for its connection to the old one to fail.
        failoverDetector: true,
        ...(retryStrategy ? { sentinelRetryStrategy: retryStrategy } : {}),
        reconnectOnError: reconnectOnReadonly,
      });
      return reconnectAfterUnexpectedEnd(client);
    }
    case 'cluster':
      return new Cluster([...t.nodes], {
        ...CLUSTER_FAILOVER_OPTIONS,
        ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
        ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
        ...(t.natMap !== undefined ? { natMap: { ...t.natMap } } : {}),
        // Managed clusters over TLS present certificates for the names the client was given,
        // while the nodes announce addresses: keep the names (ioredis README, "Special note: AWS ElastiCache").
        ...(t.auth.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
        redisOptions: {
          ...nodeOptions,
          connectionName,
          ...(t.auth.username !== undefined ? { username: t.auth.username } : {}),
          ...(t.auth.password !== undefined ? { password: t.auth.password } : {}),
          ...(t.auth.tls ? { tls: {} } : {}),
          reconnectOnError: reconnectOnReadonly,
        },
      });
  }
}

/** Closes a client without waiting on a reconnect loop that might never end (bullmq#833). */
export async function closeRedis(client: Redis): Promise<void> {
  closing.add(client);
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
