import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { answersPing } from '../../src/dev/local-redis.js';

export { answersPing };

/** A Redis this test run owns: it can be stopped and started again on the same address. */
export interface TestRedis {
  url: string;
  /** How it was obtained, for the set-up log line. */
  source: 'testcontainers' | 'redis-server';
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const HOW_TO_GET_REDIS = [
  'The tests need a real Redis, and none was found. Any one of these works:',
  '  - set REDIS_URL=redis://host:port to use a Redis you run (a test prefix keeps its keys apart);',
  '  - start a Docker engine, so testcontainers can run redis:7-alpine;',
  '  - install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).',
].join('\n');

/**
 * Waits until `url` answers PING. A poller of its own rather than `vi.waitFor`: it runs in the
 * global set-up, in vitest's main process before any test worker exists (vitest's docs,
 * "globalSetup"), outside the test runtime that `vi` belongs to.
 */
export async function waitForPing(url: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await answersPing(url))) {
    if (Date.now() > until) throw new Error(`Redis at ${url} did not answer within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function dockerLikelyAvailable(): boolean {
  if (process.env.DOCKER_HOST) return true;
  return existsSync('/var/run/docker.sock');
}

async function startWithTestcontainers(): Promise<TestRedis | undefined> {
  if (!dockerLikelyAvailable()) return undefined;
  try {
    const { GenericContainer, getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    const hostPort = await getPort();
    const container = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--appendonly', 'no', '--save', ''])
      .withExposedPorts({ container: 6379, host: hostPort })
      .start();
    const url = `redis://${container.getHost()}:${hostPort}`;
    await waitForPing(url);
    return {
      url,
      source: 'testcontainers',
      stop: async () => {
        await container.exec(['redis-cli', 'shutdown', 'nosave']).catch(() => undefined);
      },
      start: async () => {
        await container.restart();
        await waitForPing(url);
      },
      close: async () => {
        await container.stop();
      },
    };
  } catch {
    return undefined;
  }
}

function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A redis-server (or sentinel) process a test controls: killed like a crash, started again on the same port. */
export interface RedisProcess {
  port: number;
  url: string;
  /** SIGKILL, as a crashed machine: nothing is flushed, replicas keep what they had. */
  kill: () => Promise<void>;
  /** Starts it (again) and waits until it answers PING. */
  start: () => Promise<void>;
}

/** The one redis-server launcher of the tests: `args` as redis-server takes them, run in `dir`. */
export function redisServerProcess(port: number, dir: string, args: string[]): RedisProcess {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  return {
    port,
    url,
    start: async () => {
      child = spawn('redis-server', args, { stdio: 'ignore', cwd: dir });
      await waitForPing(url);
    },
    kill: async () => {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
}

/**
 * redisServerProcess on a free port with a temporary folder of its own, started; `close()` kills it
 * and removes the folder. `args(port, dir)` are redis-server's arguments.
 */
export async function ownRedisProcess(
  args: (port: number, dir: string) => string[],
): Promise<RedisProcess & { close: () => Promise<void> }> {
  const port = await getPort();
  const dir = mkdtempSync(join(tmpdir(), 'mori-test-redis-'));
  const node = redisServerProcess(port, dir, args(port, dir));
  await node.start();
  return {
    ...node,
    close: async () => {
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRedisServerProcess(persistent = false): Promise<TestRedis | undefined> {
  if (!redisServerOnPath()) return undefined;
  const node = await ownRedisProcess((port, dir) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    // Persistent: every write reaches the AOF before it is answered, so a SIGKILL loses nothing.
    ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ]);
  return { url: node.url, source: 'redis-server', start: node.start, stop: node.kill, close: node.close };
}

/**
 * A Redis of our own: testcontainers when a Docker engine answers, else redis-server on PATH.
 * `persistent` keeps the data across stop/start (a redis-server with AOF on every write).
 */
export async function startTestRedis({ persistent = false } = {}): Promise<TestRedis> {
  const redis =
    (persistent ? undefined : await startWithTestcontainers()) ?? (await startRedisServerProcess(persistent));
  if (!redis) throw new Error(HOW_TO_GET_REDIS);
  return redis;
}
