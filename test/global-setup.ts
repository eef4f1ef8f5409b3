import type { TestProject } from 'vitest/node';
import { startTestRedis, waitForPing } from './helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/**
 * One Redis for the whole run: REDIS_URL when set, otherwise testcontainers when a Docker engine
 * answers, otherwise a redis-server from PATH on a free port; failing that, a message saying how
 * to get one. Tests isolate themselves with a unique key prefix each.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    await waitForPing(fromEnv);
    project.provide('redisUrl', fromEnv);
    return async () => undefined;
  }
  const redis = await startTestRedis();
  console.log(`test Redis: ${redis.url} (${redis.source})`);
  project.provide('redisUrl', redis.url);
  return () => redis.close();
}
