// What both benchmarks share: a Redis to run against, temporary folders, a condition poller, the
// V8 flags the service runs with, and one clean-up that stops and removes all of it in reverse order.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import getPort from 'get-port';

/** The built service the benchmarks run: dist/main.js, or BENCH_MAIN (the tests' fresh build). */
export const serviceMain = resolve(process.env.BENCH_MAIN ?? 'dist/main.js');

/** The webhook secret the benchmarks run the service with and sign with. */
export const BENCH_SECRET = 'whsec_benchmark_secret';

/** The headers MORI sends with `body`: JSON, signed with BENCH_SECRET. */
export function signedHeaders(body) {
  return {
    'content-type': 'application/json',
    'x-moribiz-signature': createHmac('sha256', BENCH_SECRET).update(body).digest('hex'),
  };
}

const cleanUps = [];

/** Registers `fn` to run at cleanUp(), before everything registered earlier. */
export function onCleanUp(fn) {
  cleanUps.push(fn);
}

/** Runs every registered clean-up, newest first; one that fails does not stop the others. */
export async function cleanUp() {
  while (cleanUps.length > 0) {
    try {
      await cleanUps.pop()();
    } catch (err) {
      console.error(`clean-up failed: ${err.message}`);
    }
  }
}

/** Polls `probe` every 50 ms until it returns true; throws naming `what` after `ms`. */
export async function waitFor(probe, what, ms = 15_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A fresh folder under the system's temporary directory, removed at cleanUp(). */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanUp(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * REDIS_URL when set; otherwise the product's own local launcher (`npm start` without REDIS_URL:
 * redis-server from PATH, AOF everysec, noeviction) on a free port, with its data in a temporary
 * folder. Either way the URL; a Redis started here is stopped at cleanUp() before its folder goes.
 */
export async function benchRedis() {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const { startLocalRedis } = await import(pathToFileURL(join(dirname(serviceMain), 'dev/local-redis.js')).href);
  const dataDir = tempDir('bench-redis-');
  const redis = await startLocalRedis({ dataDir, port: await getPort(), logger: { info() {} } });
  onCleanUp(() => redis.stop());
  return redis.url;
}

/**
 * The NODE_OPTIONS the service runs with: BENCH_NODE_OPTIONS when set (an empty value means V8's
 * defaults), otherwise the image's, read from the Dockerfile so the flags are written down once.
 */
export function serviceNodeOptions() {
  if (process.env.BENCH_NODE_OPTIONS !== undefined) return process.env.BENCH_NODE_OPTIONS;
  const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
  const flags = dockerfile.match(/NODE_OPTIONS="([^"]*)"/);
  if (!flags) throw new Error('the Dockerfile sets no NODE_OPTIONS="..."; set BENCH_NODE_OPTIONS');
  return flags[1];
}

/**
 * `node <args>` with `env` added to this process's environment, its stderr on ours. At cleanUp()
 * it gets SIGTERM and is awaited; an exit before that is reported with `name`.
 */
export function startNode(name, args, env = {}) {
  const child = spawn('node', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited early (${code ?? signal})`);
  });
  onCleanUp(async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });
  return child;
}
