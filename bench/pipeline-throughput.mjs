// End-to-end throughput: signed webhooks → receiver (ROLE=api) → Redis → ONE worker process
// (ROLE=worker) → a local MORI stand-in → the file sink. Reports events per second from the first
// webhook until the last line lands in the file. Run: npm run build && npm run bench:pipeline
// Uses REDIS_URL when set, otherwise starts a redis-server from PATH on a free port (bench-kit.mjs).
// Reports each role's peak RSS (Linux /proc). Both roles run with the image's NODE_OPTIONS (from the
// Dockerfile); BENCH_NODE_OPTIONS replaces them, for the service only, not this load generator.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import getPort from 'get-port';
import { Agent, request } from 'undici';
import {
  BENCH_SECRET,
  benchRedis,
  cleanUp,
  serviceMain,
  onCleanUp,
  serviceNodeOptions,
  signedHeaders,
  startNode,
  tempDir,
  waitFor,
} from './bench-kit.mjs';
import { watchRss } from './peak-rss.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WORKER_CONCURRENCY = process.env.WORKER_CONCURRENCY ?? '50';

const redisUrl = await benchRedis();

// A MORI stand-in that answers every order as complete at once, so the pipeline itself is measured.
const mori = createHttpServer((req, res) => {
  const orderId = decodeURIComponent(req.url.split('/').pop());
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      data: {
        type: 'antiAi',
        orderId,
        channel: 'api',
        status: 'complete',
        orderName: 'bench',
        fileCount: 1,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:01:00.000Z',
        thumbnailImageUrl: null,
        errors: null,
      },
    }),
  );
});
await new Promise((r) => mori.listen(0, '127.0.0.1', r));
onCleanUp(() => new Promise((r) => mori.close(r)));
const file = join(tempDir('bench-pipeline-'), 'orders.jsonl');
const prefix = `{bench-${randomUUID().slice(0, 8)}}`;
const apiPort = await getPort();
const nodeOptions = serviceNodeOptions();
const common = {
  NODE_OPTIONS: nodeOptions,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  MORI_API_BASE_URL: `http://127.0.0.1:${mori.address().port}`,
  MORI_API_TOKEN: 'bench',
  MORI_WEBHOOK_SECRET: BENCH_SECRET,
  SINKS: JSON.stringify([{ type: 'file', name: 'archive', path: file }]),
  MORI_RATE_LIMIT_PER_MINUTE: '1000000',
  MORI_BUDGET_SHARE: '1',
  WORKER_CONCURRENCY,
};
const api = startNode('api', [serviceMain], { ...common, ROLE: 'api', PORT: String(apiPort) });
const worker = startNode('worker', [serviceMain], { ...common, ROLE: 'worker', PORT: String(await getPort()) });
const apiRss = watchRss(api);
const workerRss = watchRss(worker);
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok, 'the receiver');
  const agent = new Agent({ connections: CONCURRENCY });
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const n = next++;
        const body = JSON.stringify({
          eventId: randomUUID(),
          eventType: 'order.antiAi.completed',
          occurredAt: new Date().toISOString(),
          data: { orderId: String(1_000_000_000_000_000_000n + BigInt(n)), status: 'complete' },
        });
        const res = await request(`http://127.0.0.1:${apiPort}/webhooks/mori`, {
          method: 'POST',
          dispatcher: agent,
          body,
          headers: signedHeaders(body),
        });
        await res.body.dump();
        if (res.statusCode !== 200) failed++;
      }
    }),
  );
  const accepted = performance.now();
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);
  await waitFor(() => lines() >= EVENTS - failed, 'every delivery', 300_000);
  const done = performance.now();
  const rss = { api: apiRss.peakMb(), worker: workerRss.peakMb() };
  apiRss.stop();
  workerRss.stop();
  const seconds = (done - started) / 1000;
  console.table([
    {
      events: EVENTS,
      'non-200': failed,
      'webhook phase s': ((accepted - started) / 1000).toFixed(2),
      'until last line s': seconds.toFixed(2),
      'events/s end to end': Math.round((EVENTS - failed) / seconds),
      'worker concurrency': WORKER_CONCURRENCY,
      'lines in file': lines(),
      'api peak RSS MB': rss.api,
      'worker peak RSS MB': rss.worker,
    },
  ]);
  console.log(`node ${process.version}; service NODE_OPTIONS=${JSON.stringify(nodeOptions)}`);
  await agent.close();
} finally {
  await cleanUp();
}
