import { Redis } from 'ioredis';

/** Every key under a prefix, for assertions on what a test left in Redis. */
async function keysWithPrefix(url: string, prefix: string): Promise<string[]> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    client.disconnect();
  }
}

export async function deleteKeysWithPrefix(url: string, prefix: string): Promise<void> {
  const keys = await keysWithPrefix(url, prefix);
  if (keys.length === 0) return;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}
