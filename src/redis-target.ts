/**
 * Which Redis the service talks to, and how (README, "Redis topologies"): one node by URL, a
 * master found through Sentinel, or a Redis Cluster from seed nodes. Pure: config.ts builds it
 * from the environment, redis.ts turns it into clients.
 */
export const REDIS_MODES = ['single', 'sentinel', 'cluster'] as const;
type RedisMode = (typeof REDIS_MODES)[number];

export interface HostPort {
  host: string;
  port: number;
}

/** A data node's credentials and TLS, read from a redis:// or rediss:// URL. */
export interface NodeAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { mode: 'single'; url: string }
  | {
      mode: 'sentinel';
      sentinels: readonly HostPort[];
      /** The master group's name, as the sentinels know it (`sentinel monitor <name> …`). */
      name: string;
      sentinelPassword?: string;
      /** The data nodes' user, password, TLS and database; its host is not read (the sentinels name the master). */
      url?: string;
    }
  | {
      mode: 'cluster';
      nodes: readonly HostPort[];
      auth: NodeAuth;
      /** Addresses the nodes announce → addresses this process can reach (NAT, port forwarding). */
      natMap?: Readonly<Record<string, HostPort>>;
    };

/** The part of the environment this module reads, already checked field by field. */
export interface RedisEnv {
  REDIS_MODE: RedisMode;
  REDIS_URL?: string;
  REDIS_PREFIX: string;
  REDIS_SENTINELS?: readonly HostPort[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: readonly string[];
  REDIS_CLUSTER_NAT_MAP?: Readonly<Record<string, HostPort>>;
}

/** `host:port`, IPv6 in brackets (`[::1]:26379`); the port is required. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Reads user, password and TLS from a redis(s):// URL; the URL is assumed valid (the schema checked it). */
export function nodeAuthOf(url: string): NodeAuth & { db: number } {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
  };
}

/** The braces of a Redis Cluster hash tag with something inside: `{mori}`, `a{b}c`. */
const HASH_TAG = /\{[^{}]+\}/;

/**
 * The target, or undefined in single mode without REDIS_URL (`npm start` then runs its own
 * redis-server). Each combination that cannot work is a problem named with what to set.
 */
export function redisTargetOf(env: RedisEnv, problems: string[]): RedisTarget | undefined {
  const only = (name: keyof RedisEnv, mode: RedisMode) => {
    if (env[name] !== undefined && env.REDIS_MODE !== mode) {
      problems.push(`${name}: read only with REDIS_MODE=${mode} (REDIS_MODE is ${env.REDIS_MODE})`);
    }
  };
  only('REDIS_SENTINELS', 'sentinel');
  only('REDIS_SENTINEL_NAME', 'sentinel');
  only('REDIS_SENTINEL_PASSWORD', 'sentinel');
  only('REDIS_CLUSTER_NODES', 'cluster');
  only('REDIS_CLUSTER_NAT_MAP', 'cluster');

  switch (env.REDIS_MODE) {
    case 'single':
      return env.REDIS_URL === undefined ? undefined : { mode: 'single', url: env.REDIS_URL };
    case 'sentinel': {
      if (env.REDIS_SENTINELS === undefined)
        problems.push(
          'REDIS_SENTINELS: required with REDIS_MODE=sentinel (host:port of each sentinel, comma-separated)',
        );
      if (env.REDIS_SENTINEL_NAME === undefined)
        problems.push(
          "REDIS_SENTINEL_NAME: required with REDIS_MODE=sentinel (the master group's name, e.g. mymaster)",
        );
      if (env.REDIS_SENTINELS === undefined || env.REDIS_SENTINEL_NAME === undefined) return undefined;
      return {
        mode: 'sentinel',
        sentinels: env.REDIS_SENTINELS,
        name: env.REDIS_SENTINEL_NAME,
        ...(env.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: env.REDIS_SENTINEL_PASSWORD } : {}),
        ...(env.REDIS_URL !== undefined ? { url: env.REDIS_URL } : {}),
      };
    }
    case 'cluster': {
      if (env.REDIS_URL !== undefined)
        problems.push(
          'REDIS_URL: not read with REDIS_MODE=cluster; put the seed nodes (with their user, password and rediss://) in REDIS_CLUSTER_NODES',
        );
      // Every key must hash to one slot, or BullMQ's multi-key scripts fail with CROSSSLOT.
      if (!HASH_TAG.test(env.REDIS_PREFIX))
        problems.push(
          `REDIS_PREFIX: with REDIS_MODE=cluster it must contain a hash tag in braces, e.g. {mori}, so every key lives in one slot (it is ${env.REDIS_PREFIX})`,
        );
      if (env.REDIS_CLUSTER_NODES === undefined) {
        problems.push(
          'REDIS_CLUSTER_NODES: required with REDIS_MODE=cluster (redis://host:port seed nodes, comma-separated)',
        );
        return undefined;
      }
      const seeds = env.REDIS_CLUSTER_NODES.map((url) => ({ url, ...nodeAuthOf(url) }));
      const first = seeds[0]!;
      if (seeds.some((s) => s.db !== 0))
        problems.push('REDIS_CLUSTER_NODES: Redis Cluster has database 0 only; remove the /<db> from the URLs');
      if (seeds.some((s) => s.tls !== first.tls || s.username !== first.username || s.password !== first.password))
        problems.push('REDIS_CLUSTER_NODES: every seed URL must use the same scheme, user and password');
      const { username, password, tls } = first;
      return {
        mode: 'cluster',
        nodes: seeds.map((s) => {
          const u = new URL(s.url);
          return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 };
        }),
        auth: { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}), tls },
        ...(env.REDIS_CLUSTER_NAT_MAP !== undefined ? { natMap: env.REDIS_CLUSTER_NAT_MAP } : {}),
      };
    }
  }
}

/** Where the target points, for logs and messages: never a password. */
export function describeRedisTarget(target: RedisTarget | undefined): string {
  if (target === undefined) return 'the embedded redis-server';
  const hosts = (list: readonly HostPort[]) => list.map((h) => `${h.host}:${h.port}`).join(',');
  switch (target.mode) {
    case 'single':
      return target.url.replace(/\/\/[^@]*@/, '//***@');
    case 'sentinel':
      return `sentinel master "${target.name}" via ${hosts(target.sentinels)}`;
    case 'cluster':
      return `cluster via ${hosts(target.nodes)}`;
  }
}
