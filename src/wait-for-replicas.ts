import { Cluster } from 'ioredis';
import type { Redis } from './redis.js';

/** What REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS ask for. */
export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

/** Each cluster client's slot of our key prefix: asked once (CLUSTER KEYSLOT), it never changes. */
const slotOfPrefix = new WeakMap<Cluster, Promise<number>>();

/**
 * The connection our writes went over: WAIT counts the replicas that have every write this
 * connection sent, so on a cluster it must go to the master of the keys' slot, through the same
 * node client the writes used; a keyless command would reach any node.
 */
async function nodeFor(client: Redis, key: string): Promise<Redis> {
  if (!(client instanceof Cluster)) return client;
  let slot = slotOfPrefix.get(client);
  if (slot === undefined) {
    slot = client.call('CLUSTER', 'KEYSLOT', key).then(Number);
    slotOfPrefix.set(client, slot);
  }
  const owner = client.slots[await slot]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new Error(`no master known for the slot of ${key}; the cluster is failing over`);
  return node;
}

/**
 * Waits until `wait.replicas` replicas hold every write made so far on `client` to `key`'s
 * master (Redis WAIT), or the timeout; returns how many did. Replication is asynchronous, so
 * without this a master that fails right after answering takes those writes with it (README,
 * "Redis topologies").
 */
export async function waitForReplicas(client: Redis, key: string, wait: ReplicaWait): Promise<number> {
  const node = await nodeFor(client, key);
  return Number(await node.call('WAIT', wait.replicas, wait.timeoutMs));
}
