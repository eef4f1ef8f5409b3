// Ingest and flood benchmark of the webhook endpoint, with its yardsticks in the same run: bare
// Fastify and a naive receiver (bench/peer-receiver.mjs), each in its own process like the service
// (built, ROLE=api, default LOG_LEVEL), one real Redis, autocannon over loopback. Each round runs:
//   1. unique signed events against bare Fastify, the naive receiver and the service;
//   2. a duplicate storm (one eventId) against the service;
//   3. a forged flood at full speed against the service while a genuine signed event is sent every
//      20 ms on connections of its own (their latency, and whether any failed).
// Ratios are computed within a round and their median over BENCH_ROUNDS is printed: on a shared
// machine absolute figures drift between minutes, ratios much less.
// Run: npm run build && npm run bench. BENCH_CONNECTIONS (50), BENCH_SECONDS (8), BENCH_ROUNDS (3),
// BENCH_WARMUP_SECONDS (3: unique events to each receiver first, not measured).
// Uses REDIS_URL when set, otherwise starts a redis-server from PATH on a free port (bench-kit.mjs).
// Reports the service's peak RSS (Linux /proc). The three receivers run with the image's NODE_OPTIONS
// (from the Dockerfile); BENCH_NODE_OPTIONS replaces them, for the receivers only, not this load generator.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import {
  BENCH_SECRET,
  benchRedis,
  cleanUp,
  serviceMain,
  signedHeaders,
  serviceNodeOptions,
  startNode,
  waitFor,
} from './bench-kit.mjs';
import { eventBody } from './event-body.mjs';
import { watchRss } from './peak-rss.mjs';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Each receiver first takes this long of unique events, uncounted, so that no round measures V8 still compiling. */
const WARMUP_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
/** How often the genuine event is sent during the flood (issue 10's scenario). */
const GENUINE_EVERY_MS = 20;

const signed = (makeBody) => (req) => {
  const b = makeBody();
  return { ...req, body: b, headers: signedHeaders(b) };
};
// A forgery with a well-formed signature header: it costs the service an HMAC, never a parse.
const FORGED = eventBody('forged-event');
const forged = (req) => ({
  ...req,
  body: FORGED,
  headers: { 'content-type': 'application/json', 'x-moribiz-signature': 'ab'.repeat(32) },
});

/** CPU time (user + system, ms) a process has used so far, from /proc; 0 off Linux. */
function cpuMs(child) {
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** The kernel's USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** One autocannon run, with the CPU time `receiver` spent per answer (µs): steadier than req/s on a shared machine. */
async function measure(receiver, url, name, setupRequest) {
  const before = cpuMs(receiver);
  const result = await run(url, name, setupRequest);
  result.cpuUsPerRequest = Math.round(((cpuMs(receiver) - before) * 1000) / (result['2xx'] + result.non2xx || 1));
  return result;
}

function run(url, name, setupRequest, seconds = DURATION_S) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url, method: 'POST', connections: CONNECTIONS, duration: seconds, requests: [{ setupRequest }] },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('error', reject);
    console.error(`  ${name}: ${CONNECTIONS} connections for ${seconds} s`);
  });
}

/** bench/genuine-sender.mjs for the length of one scenario: the genuine events' latencies. */
function genuineSender(target) {
  const child = spawn('node', ['bench/genuine-sender.mjs', target, String(GENUINE_EVERY_MS), String(DURATION_S)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`genuine sender exited ${code}`)),
    ),
  );
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
const loadNow = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const redis = await benchRedis();
const prefix = `{bench-${randomUUID().slice(0, 8)}}`;
// The same V8 flags for all three receivers, so the ratios compare the code and not the heap sizing.
const nodeOptions = serviceNodeOptions();
const [barePort, naivePort, port] = [await getPort(), await getPort(), await getPort()];
const bareProcess = startNode('bare Fastify', ['bench/peer-receiver.mjs', 'bare', String(barePort)], {
  NODE_OPTIONS: nodeOptions,
});
const naiveProcess = startNode('naive receiver', ['bench/peer-receiver.mjs', 'naive', String(naivePort), redis], {
  NODE_OPTIONS: nodeOptions,
});
const api = startNode('service', [serviceMain], {
  NODE_OPTIONS: nodeOptions,
  ROLE: 'api',
  PORT: String(port),
  HOST: '127.0.0.1',
  REDIS_URL: redis,
  REDIS_PREFIX: prefix,
  MORI_WEBHOOK_SECRET: BENCH_SECRET,
  ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}),
});
const apiRss = watchRss(api);
const url = (p) => `http://127.0.0.1:${p}/webhooks/mori`;
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 'the receiver');
  for (const p of [barePort, naivePort]) {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${p}/`)).status === 404, `the peer on ${p}`);
  }
  const loadBefore = loadNow();
  const rounds = [];
  let accepted = 0;
  if (WARMUP_S > 0) {
    console.error(`warm-up, not measured (load ${loadNow()})`);
    for (const [p, name] of [
      [barePort, 'bare Fastify'],
      [naivePort, 'naive receiver'],
      [port, 'service'],
    ]) {
      const warm = await run(
        url(p),
        name,
        signed(() => eventBody(randomUUID())),
        WARMUP_S,
      );
      if (p === port) accepted += warm['2xx'];
    }
  }
  for (let i = 1; i <= ROUNDS; i++) {
    console.error(`round ${i} of ${ROUNDS} (load ${loadNow()})`);
    const bare = await measure(
      bareProcess,
      url(barePort),
      'bare Fastify',
      signed(() => eventBody(randomUUID())),
    );
    const naive = await measure(
      naiveProcess,
      url(naivePort),
      'naive receiver',
      signed(() => eventBody(randomUUID())),
    );
    const service = await measure(
      api,
      url(port),
      'service, unique events',
      signed(() => eventBody(randomUUID())),
    );
    accepted += service['2xx'];
    const stormId = randomUUID();
    const storm = await run(
      url(port),
      'service, duplicate storm',
      signed(() => eventBody(stormId)),
    );
    const genuineDone = genuineSender(url(port));
    const flood = await measure(
      api,
      url(port),
      `service, forged flood + a genuine event every ${GENUINE_EVERY_MS} ms`,
      forged,
    );
    const genuine = await genuineDone;
    accepted += genuine.sent - genuine.failures;
    rounds.push({ bare, naive, service, storm, flood, genuine });
  }
  const rssMb = apiRss.peakMb();
  apiRss.stop();

  const rate = (r) => Math.round(r.requests.average);
  const errors = (r) => r.non2xx + r.errors + r.timeouts;
  console.table(
    rounds.map(({ bare, naive, service, storm, flood, genuine }, i) => ({
      round: i + 1,
      'bare req/s': rate(bare),
      'naive req/s': rate(naive),
      'service req/s': rate(service),
      'service/bare': ratio(rate(service), rate(bare)),
      'service/naive': ratio(rate(service), rate(naive)),
      'p99 ms bare/naive/service': `${bare.latency.p99}/${naive.latency.p99}/${service.latency.p99}`,
      'CPU µs/req bare/naive/service': `${bare.cpuUsPerRequest}/${naive.cpuUsPerRequest}/${service.cpuUsPerRequest}`,
      'service errors': errors(service),
      'storm req/s (p99)': `${rate(storm)} (${storm.latency.p99})`,
      'forged req/s': rate(flood),
      'forged/bare': ratio(rate(flood), rate(bare)),
      'forged CPU µs/req': flood.cpuUsPerRequest,
      'genuine p99 ms (max)': `${genuine.p99} (${genuine.max})`,
      'genuine failed': `${genuine.failures}/${genuine.sent}`,
    })),
  );
  const m = (f) => median(rounds.map(f));
  const summary = {
    'service / bare Fastify (goal ≥ 0.5)': m((r) => ratio(rate(r.service), rate(r.bare))),
    'service / naive receiver (goal ≥ 1)': m((r) => ratio(rate(r.service), rate(r.naive))),
    'service p99 ms (goal ≤ 50)': m((r) => r.service.latency.p99),
    'service CPU per request / bare Fastify': m((r) => ratio(r.service.cpuUsPerRequest, r.bare.cpuUsPerRequest)),
    'service CPU per request / naive receiver': m((r) => ratio(r.service.cpuUsPerRequest, r.naive.cpuUsPerRequest)),
    'forged CPU per request / bare Fastify': m((r) => ratio(r.flood.cpuUsPerRequest, r.bare.cpuUsPerRequest)),
    'genuine p99 ms under the flood (goal ≤ 100)': m((r) => r.genuine.p99),
    'genuine failed under the flood (goal 0)': rounds.reduce((n, r) => n + r.genuine.failures, 0),
    'forged answered / bare Fastify (goal ≥ 0.5)': m((r) => ratio(rate(r.flood), rate(r.bare))),
    'service peak RSS MB (goal ≤ 150)': rssMb,
  };
  console.log(`medians over ${ROUNDS} rounds:`);
  console.table(summary);
  const client = new Redis(redis);
  // No worker runs here: every accepted event waits in the intake (src/webhook/intake.ts).
  const queued = await client.xlen(`${prefix}:intake`);
  client.disconnect();
  console.log(
    `node ${process.version}; ${CONNECTIONS} connections, ${DURATION_S} s a scenario; receivers' NODE_OPTIONS=${JSON.stringify(nodeOptions)}; load average (1/5/15 min) ${loadBefore} before, ${loadNow()} after.`,
  );
  console.log(
    `events in the intake: ${queued}; unique events answered 200: ${accepted}; storms: ${ROUNDS}, each adds exactly 1 entry ` +
      `(events still in flight when a scenario ends are queued without their answer being counted).`,
  );
} finally {
  await cleanUp();
}
