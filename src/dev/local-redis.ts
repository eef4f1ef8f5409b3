import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How long redis-server gets to answer PING after it starts, and to exit after SIGTERM. */
const START_DEADLINE_MS = 10_000;
const STOP_DEADLINE_MS = 10_000;

export class LocalRedisUnavailableError extends Error {
  constructor(detail: string) {
    super(
      [
        `REDIS_URL is not set and no local Redis could be started (${detail}). Any one of these works:`,
        '  - docker compose up            (Redis, api and worker, configured for production)',
        '  - install redis-server         (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), then npm start again',
        '  - REDIS_URL=redis://host:6379  (a Redis you already run)',
      ].join('\n'),
    );
    this.name = 'LocalRedisUnavailableError';
  }
}

export interface LocalRedis {
  url: string;
  /** SIGTERM, then waits for the exit (SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** SIGTERM without waiting, for exit paths that cannot await: redis-server still shuts down cleanly. */
  kill(): void;
}

export interface LocalRedisOptions {
  dataDir: string;
  port: number;
  logger: Logger;
  /** The redis-server binary; found on PATH by default. */
  command?: string;
}

/** True when a Redis answers PING at `url` right now (one try, no reconnects). */
export async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * The local default for `npm start` without REDIS_URL: a redis-server from PATH on loopback, with
 * its data under `dataDir`, AOF on (`appendfsync everysec`) and `noeviction`, the settings BullMQ
 * needs (docs/field-notes.md). If a Redis already answers on the port (say, from an earlier run), it is
 * used as it is and left running.
 */
export async function startLocalRedis(opts: LocalRedisOptions): Promise<LocalRedis> {
  const command = opts.command ?? 'redis-server';
  const url = `redis://127.0.0.1:${opts.port}`;
  if (await answersPing(url)) {
    opts.logger.info({ url }, 'REDIS_URL is unset; using the Redis already answering on the local default port');
    return { url, stop: async () => undefined, kill: () => undefined };
  }
  const probe = spawnSync(command, ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new LocalRedisUnavailableError(`${command} was not found on PATH`);

  const dir = resolve(opts.dataDir);
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    command,
    [
      '--port',
      String(opts.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const until = Date.now() + START_DEADLINE_MS;
  while (!(await answersPing(url))) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new LocalRedisUnavailableError(`${command} did not start on port ${opts.port}; is the port taken?`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  opts.logger.info(
    { url, dataDir: dir },
    'REDIS_URL is unset; started a local redis-server (AOF on); it stops when this process does',
  );
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      // SIGTERM makes redis-server flush the AOF and exit cleanly.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await exited;
      clearTimeout(timer);
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
