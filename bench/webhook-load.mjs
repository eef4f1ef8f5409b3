// Load benchmark of the webhook hot path: a built receiver (ROLE=api) in its own process, a real
// Redis, and autocannon posting signed MORI events over loopback. Run: npm run build && npm run bench
// Uses REDIS_URL when set, otherwise starts a redis-server from PATH on a free port.
// Reports the receiver's peak RSS (Linux /proc). BENCH_NODE_OPTIONS, when set, is the receiver's
// NODE_OPTIONS (V8 flags for the service only, not for this load generator).
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import { watchRss } from './peak-rss.mjs';

const SECRET = 'whsec_benchmark_secret';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 200);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);

async function waitFor(probe, what, ms = 10_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if (await probe()) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const children = [];
async function redisUrl() {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const port = await getPort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  children.push(
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
      ],
      { stdio: 'ignore' },
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(async () => {
    const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } finally {
      r.disconnect();
    }
  }, 'redis');
  return url;
}

function body(eventId) {
  return JSON.stringify({
    eventId,
    eventType: 'order.antiAi.completed',
    occurredAt: new Date().toISOString(),
    data: {
      orderId: String(1234567890123456789n + BigInt(Math.floor(Math.random() * 1e6))),
      orderName: 'bench',
      status: 'complete',
      fileCount: 3,
      downloadUrl: 'https://example.invalid/presigned?sig=x',
    },
  });
}

function run(url, name, makeBody) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: DURATION_S,
        requests: [
          {
            setupRequest: (req) => {
              const b = makeBody();
              return {
                ...req,
                body: b,
                headers: {
                  'content-type': 'application/json',
                  'x-moribiz-signature': createHmac('sha256', SECRET).update(b).digest('hex'),
                },
              };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('error', reject);
    console.error(`running ${name}: ${CONNECTIONS} connections for ${DURATION_S} s`);
  });
}

const redis = await redisUrl();
const port = await getPort();
const prefix = `{bench-${randomUUID().slice(0, 8)}}`;
const serviceNodeOptions = process.env.BENCH_NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? '';
const api = spawn('node', ['dist/main.js'], {
  env: {
    ...process.env,
    NODE_OPTIONS: serviceNodeOptions,
    ROLE: 'api',
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis,
    REDIS_PREFIX: prefix,
    MORI_WEBHOOK_SECRET: SECRET,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
children.push(api);
const apiRss = watchRss(api);
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the receiver');
  const url = `http://127.0.0.1:${port}/webhooks/mori`;
  const unique = await run(url, 'unique events', () => body(randomUUID()));
  const uniqueRss = apiRss.peakMb();
  const stormId = randomUUID();
  const storm = await run(url, 'duplicate storm (one eventId)', () => body(stormId));
  const stormRss = apiRss.peakMb();
  apiRss.stop();
  const client = new Redis(redis);
  const queued = await client.llen(`${prefix}:mori-events:wait`);
  client.disconnect();
  const row = (name, r, rssMb) => ({
    scenario: name,
    'req/s (mean)': Math.round(r.requests.average),
    'latency p50 ms': r.latency.p50,
    'p97.5 ms': r.latency.p97_5,
    'p99 ms': r.latency.p99,
    'max ms': r.latency.max,
    '2xx': r['2xx'],
    'non-2xx': r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    'api peak RSS MB': rssMb,
  });
  console.table([row('unique events', unique, uniqueRss), row('duplicate storm', storm, stormRss)]);
  console.log(
    `node ${process.version}; receiver NODE_OPTIONS=${JSON.stringify(serviceNodeOptions)}; peak RSS is cumulative (the storm row covers both runs).`,
  );
  console.log(
    `jobs queued: ${queued}; 2xx answers to unique events: ${unique['2xx']}; the storm should add exactly 1.`,
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
}
