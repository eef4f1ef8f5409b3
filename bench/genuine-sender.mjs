// Sends one genuine signed event every `everyMs` for `seconds`, on connections of its own, and
// prints their latencies as JSON. A process of its own, so the flood generator's busy event loop
// cannot delay its timers or its reading of the answers (that would be counted as the service's).
// Usage: node bench/genuine-sender.mjs <url> <everyMs> <seconds>
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { signedHeaders } from './bench-kit.mjs';
import { eventBody } from './event-body.mjs';

const [url, everyMs, seconds] = process.argv.slice(2);
const agent = new Agent({ connections: 16 });
const latencies = [];
let failures = 0;
let sent = 0;
const inFlight = new Set();

function send() {
  sent++;
  const body = eventBody(randomUUID());
  const started = performance.now();
  const p = request(url, {
    method: 'POST',
    body,
    headers: signedHeaders(body),
    dispatcher: agent,
  })
    .then(async (res) => {
      await res.body.dump();
      latencies.push(performance.now() - started);
      if (res.statusCode !== 200) failures++;
    })
    .catch(() => failures++)
    .finally(() => inFlight.delete(p));
  inFlight.add(p);
}

const timer = setInterval(send, Number(everyMs));
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
clearInterval(timer);
await Promise.all(inFlight);
await agent.close();
latencies.sort((a, b) => a - b);
const q = (f) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? NaN);
process.stdout.write(JSON.stringify({ sent, failures, p50: q(0.5), p99: q(0.99), max: q(1) }));
