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
 * One WAIT at a time per connection, shared by every caller. Redis runs a connection's commands in
 * order, and a WAIT blocks its connection until the replicas answer or the timeout: one WAIT per
 * webhook on the shared producer connection would queue every later command behind each of them
 * (seen in the failover test: with the replica gone, 16 senders kept the receiver at 503 past the
 * test's 4-minute limit; with the waits shared it answers 200 again once the replica is back). A WAIT
 * covers every write sent before it on its connection, so a caller whose write went out while a
 * WAIT was in flight joins the next one, sent when that one returns: at most one in flight, and
 * each round confirms every write before it.
 */
function sharedWaits(send: () => Promise<number>): () => Promise<number> {
  let inFlight: Promise<number> | undefined;
  let nextRound: Promise<number> | undefined;
  const start = (): Promise<number> => {
    const round = send().finally(() => {
      if (inFlight === round) inFlight = undefined;
    });
    inFlight = round;
    return round;
  };
  return () => {
    if (inFlight === undefined) return start();
    nextRound ??= inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        nextRound = undefined;
        return start();
      });
    return nextRound;
  };
}

const waitsByNode = new WeakMap<Redis, Map<string, () => Promise<number>>>();

/**
 * Waits until `wait.replicas` replicas hold every write made so far on `client` to `key`'s
 * master (Redis WAIT), or the timeout; returns how many did. Replication is asynchronous, so
 * without this a master that fails right after answering takes those writes with it (README,
 * "Redis topologies").
 */
export async function waitForReplicas(client: Redis, key: string, wait: ReplicaWait): Promise<number> {
  const node = await nodeFor(client, key);
  let byArgs = waitsByNode.get(node);
  if (byArgs === undefined) {
    byArgs = new Map();
    waitsByNode.set(node, byArgs);
  }
  const args = `${wait.replicas}:${wait.timeoutMs}`;
  let shared = byArgs.get(args);
  if (shared === undefined) {
    shared = sharedWaits(async () => Number(await node.call('WAIT', wait.replicas, wait.timeoutMs)));
    byArgs.set(args, shared);
  }
  return shared();
}
