import type { Redis } from './redis.js';
import type { RedisTarget } from './redis-target.js';

/** The node REDIS_URL names cannot hold our keys; the message says what to configure instead. */
export class WrongRedisKindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrongRedisKindError';
  }
}

/** Some managed Redis services rename or disable ROLE and INFO; then there is nothing to check. */
async function callOrUndefined(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return await run();
  } catch (err) {
    if (/unknown command|NOPERM|no permissions/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/**
 * Refuses, at start-up, a single-mode URL that names a replica, a Sentinel or a Redis Cluster
 * node: each answers PING, but a replica refuses every write (READONLY), a Sentinel has no data,
 * and a cluster node redirects most keys (MOVED), so the service would answer 503 to every webhook
 * while /readyz-by-PING said 200. Sentinel and cluster clients find the right node themselves.
 */
export async function assertRedisKind(client: Redis, target: RedisTarget): Promise<void> {
  if (target.mode !== 'single') return;
  const answer = await callOrUndefined(() => client.call('ROLE'));
  const role: unknown[] = Array.isArray(answer) ? answer : [];
  const kind = role.length > 0 ? String(role[0]) : undefined;
  if (kind === 'slave' || kind === 'replica') {
    const master = `${String(role[1])}:${String(role[2])}`;
    throw new WrongRedisKindError(
      `REDIS_URL points at a replica (its master is ${master}); it refuses writes. Point REDIS_URL at the master, or, if Sentinel manages it, set REDIS_MODE=sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME, so a failover is followed.`,
    );
  }
  if (kind === 'sentinel') {
    const names = Array.isArray(role[1]) ? (role[1] as unknown[]).map(String).join(', ') : '';
    throw new WrongRedisKindError(
      `REDIS_URL points at a Redis Sentinel, which holds no data. Set REDIS_MODE=sentinel, REDIS_SENTINELS=<this host:port and the other sentinels> and REDIS_SENTINEL_NAME=<the master's name${names ? `: ${names}` : ''}>.`,
    );
  }
  const info = await callOrUndefined(() => client.info('cluster'));
  if (typeof info === 'string' && /^cluster_enabled:1\b/m.test(info)) {
    throw new WrongRedisKindError(
      'REDIS_URL points at a Redis Cluster node, which holds only some slots. Set REDIS_MODE=cluster and REDIS_CLUSTER_NODES=<redis://host:port of one or more nodes>.',
    );
  }
}
