import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import { eventually } from './eventually.js';
import { ownRedisProcess, redisServerProcess, type RedisProcess } from './redis-server.js';

/**
 * Real Redis topologies for the failover tests, started from `redis-server` on loopback: a
 * Cluster of masters with one replica each, and a master with replicas watched by Sentinels.
 * Each node is a process of its own that a test can kill (a crash) and start again.
 */

/** Why a topology test cannot run here, or undefined when it can. */
export function topologyUnavailable(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0)
      return `${bin} is not on PATH (Debian/Ubuntu: apt-get install redis-server)`;
  }
  return undefined;
}

const COMMON_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

export type RedisNode = RedisProcess;

/** One redis-server (or sentinel) process of a test's own, on a free port, with `args` after --port. */
export async function startRedisProcess(
  args: string[],
  opts: { sentinelOf?: string } = {},
): Promise<RedisNode & { close(): Promise<void> }> {
  return ownRedisProcess((port, dir) => {
    if (opts.sentinelOf === undefined) return ['--port', String(port), '--dir', dir, ...COMMON_ARGS, ...args];
    const master = new URL(opts.sentinelOf);
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor probe ${master.hostname} ${master.port} 1`,
        '',
      ].join('\n'),
    );
    return [conf, '--sentinel', ...args];
  });
}

/** Runs one command on one node and closes the connection. */
async function ask(url: string, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** True once every replica among `nodes` has finished its first sync, so a WAIT can be answered. */
async function replicasInSync(nodes: readonly RedisNode[], replicas: number): Promise<boolean> {
  let synced = 0;
  for (const n of nodes) {
    const info = String(await ask(n.url, 'INFO', 'replication'));
    if (/^role:slave/m.test(info) && /^master_link_status:up/m.test(info)) synced += 1;
  }
  return synced >= replicas;
}

export interface TestCluster {
  /** Seed URLs for REDIS_CLUSTER_NODES. */
  seeds: string[];
  nodes: RedisNode[];
  /** The node that is master of `key`'s slot now. */
  masterOf(key: string): Promise<RedisNode>;
  close(): Promise<void>;
}

/**
 * `masters` masters with `replicas` replicas each; `nodeTimeoutMs` is cluster-node-timeout, after
 * which a silent master is failed over (README, "Redis topologies": failover timing).
 */
export async function startTestCluster({ masters = 3, replicas = 1, nodeTimeoutMs = 2000 } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mori-test-cluster-'));
  const nodes: RedisNode[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await getPort();
    // The bus port is set explicitly: port + 10000, the default, may be taken or past 65535.
    const busPort = await getPort();
    const node = redisServerProcess(port, dir, [
      '--port',
      String(port),
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      '--dir',
      dir,
      ...COMMON_ARGS,
    ]);
    await node.start();
    nodes.push(node);
  }
  const created = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
  await eventually(
    async () => {
      for (const n of nodes) {
        const info = String(await ask(n.url, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok')) return false;
      }
      return replicasInSync(nodes, masters * replicas);
    },
    { timeoutMs: 30_000, what: 'the cluster to report cluster_state:ok on every node, and its replicas in sync' },
  );
  const masterOf = async (key: string): Promise<RedisNode> => {
    for (const n of nodes) {
      const answer = await ask(n.url, 'CLUSTER', 'SHARDS').catch(() => undefined);
      if (answer === undefined) continue;
      const slot = Number(await ask(n.url, 'CLUSTER', 'KEYSLOT', key));
      for (const shard of answer as unknown[][]) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i < shard.length; i += 2) fields.set(String(shard[i]), shard[i + 1]);
        const ranges = (fields.get('slots') as unknown[]).map(Number);
        let owns = false;
        for (let i = 0; i < ranges.length; i += 2) if (slot >= ranges[i]! && slot <= ranges[i + 1]!) owns = true;
        if (!owns) continue;
        for (const entry of fields.get('nodes') as unknown[][]) {
          const f = new Map<string, unknown>();
          for (let i = 0; i < entry.length; i += 2) f.set(String(entry[i]), entry[i + 1]);
          if (f.get('role') === 'master' && f.get('health') === 'online') {
            const found = nodes.find((m) => m.port === Number(f.get('port')));
            if (found) return found;
          }
        }
      }
    }
    throw new Error(`no online master found for ${key}`);
  };
  return {
    seeds: nodes.map((n) => n.url),
    nodes,
    masterOf,
    close: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestSentinels {
  /** For REDIS_SENTINELS. */
  sentinels: string;
  name: string;
  /** The data nodes, the first one master at the start. */
  nodes: RedisNode[];
  /** The master the sentinels name now. */
  master(): Promise<RedisNode>;
  close(): Promise<void>;
}

/**
 * A master, `replicas` replicas and `sentinels` sentinels (quorum: a majority). `downAfterMs` is
 * down-after-milliseconds, after which a silent master is failed over (README, "Redis topologies").
 */
export async function startTestSentinels({
  replicas = 1,
  sentinels = 3,
  downAfterMs = 1000,
  name = 'mori-test',
} = {}): Promise<TestSentinels> {
  const dir = mkdtempSync(join(tmpdir(), 'mori-test-sentinel-'));
  const nodes: RedisNode[] = [];
  const masterPort = await getPort();
  for (let i = 0; i <= replicas; i++) {
    const port = i === 0 ? masterPort : await getPort();
    const node = redisServerProcess(port, dir, [
      '--port',
      String(port),
      '--dir',
      dir,
      '--dbfilename',
      `dump-${port}.rdb`,
      ...COMMON_ARGS,
      ...(i === 0 ? [] : ['--replicaof', '127.0.0.1', String(masterPort)]),
    ]);
    await node.start();
    nodes.push(node);
  }
  const watchers: RedisNode[] = [];
  for (let i = 0; i < sentinels; i++) {
    const port = await getPort();
    // A sentinel rewrites its configuration file as it learns: each gets one of its own.
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${Math.floor(sentinels / 2) + 1}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${Math.max(3 * downAfterMs, 3000)}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const watcher = redisServerProcess(port, dir, [conf, '--sentinel']);
    await watcher.start();
    watchers.push(watcher);
  }
  await eventually(
    async () => {
      for (const w of watchers) {
        const others = (await ask(w.url, 'SENTINEL', 'SENTINELS', name)) as unknown[];
        const seen = (await ask(w.url, 'SENTINEL', 'REPLICAS', name)) as unknown[];
        if (others.length < sentinels - 1 || seen.length < replicas) return false;
      }
      return replicasInSync(nodes, replicas);
    },
    { timeoutMs: 30_000, what: 'every sentinel to know the others and the replicas, and the replicas in sync' },
  );
  const master = async (): Promise<RedisNode> => {
    const [, port] = (await ask(watchers[0]!.url, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[];
    const found = nodes.find((n) => n.port === Number(port));
    if (!found) throw new Error(`the sentinels name an unknown master on port ${port}`);
    return found;
  };
  return {
    sentinels: watchers.map((w) => `127.0.0.1:${w.port}`).join(','),
    name,
    nodes,
    master,
    close: async () => {
      await Promise.all([...watchers, ...nodes].map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
