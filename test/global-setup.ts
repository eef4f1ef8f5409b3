import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTestRedis, waitForPing } from './helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** The service compiled from the current sources, for tests that run it as a real process. */
    builtMain: string;
  }
}

/**
 * Compiles src/ once per run into node_modules/.cache, so process tests run today's code (not a
 * stale dist/) and its imports still resolve against this checkout's node_modules.
 */
function buildForProcessTests(): string {
  const root = join(import.meta.dirname, '..');
  const outDir = join(root, 'node_modules/.cache/mori-test-build');
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/@typescript/native/bin/tsc'),
      '-p',
      join(root, 'tsconfig.build.json'),
      '--outDir',
      outDir,
    ],
    {
      stdio: 'inherit',
    },
  );
  return join(outDir, 'main.js');
}

/**
 * One Redis for the whole run: REDIS_URL when set, otherwise testcontainers when a Docker engine
 * answers, otherwise a redis-server from PATH on a free port; failing that, a message saying how
 * to get one. Tests isolate themselves with a unique key prefix each.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('builtMain', buildForProcessTests());
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
