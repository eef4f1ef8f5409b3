import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createFileSink } from '../../src/sinks/file-sink.js';
import { createHttpSink, type HttpSinkConfig } from '../../src/sinks/http-sink.js';
import { sinkConfigSchema } from '../../src/sinks/sink-config.js';
import { createRedisStreamSink } from '../../src/sinks/redis-stream-sink.js';
import type { DeliveryEnvelope, Sink } from '../../src/sinks/sink.js';
import { SinkError } from '../../src/sinks/sink.js';
import { createStdoutSink } from '../../src/sinks/stdout-sink.js';
import { buildEnvelope } from '../../src/worker/envelope.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder } from '../helpers/fake-mori.js';
import { rejectionOf } from '../helpers/rejection-of.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function envelope(n = 1): DeliveryEnvelope {
  return buildEnvelope({
    deliveryId: `dlv_${String(n).padStart(32, '0')}`,
    order: finalOrder(`100000000000000000${n % 10}`, 'aiDetection'),
    event: {
      eventId: `e-${n}`,
      eventType: 'order.aiDetection.completed',
      occurredAt: null,
      receivedAt: '2026-03-12T10:05:01.000Z',
    },
  });
}

/** An http sink from a definition as SINKS would hold it, defaults applied by the schema. */
function httpSink(definition: Record<string, unknown>): Sink {
  return createHttpSink(sinkConfigSchema.parse({ type: 'http', ...definition }) as HttpSinkConfig);
}

const failure = (p: Promise<unknown>) => rejectionOf(p, SinkError);

describe('http sink', () => {
  let capture: CaptureServer;
  let sink: Sink;
  beforeEach(async () => {
    capture = await startCaptureServer();
  });
  afterEach(async () => {
    await sink?.close();
    await capture.close();
  });

  it('POSTs the envelope signed per Standard Webhooks, verifiable with the standardwebhooks package', async () => {
    sink = httpSink({
      name: 'crm',
      url: `${capture.url}?token=abc`,
      secret: SECRET,
      headers: { 'x-team': 'images' },
      timeoutMs: 2000,
    });
    const env = envelope();
    await sink.deliver(env);
    const [req] = capture.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/hooks/mori?token=abc' });
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': env.id,
      'x-team': 'images',
    });
    expect(new Webhook(SECRET).verify(req!.body, req!.headers)).toEqual(env);
    expect(() => new Webhook('whsec_b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVzLS0t').verify(req!.body, req!.headers)).toThrow();
  });

  it('signs afresh at every attempt and keeps webhook-id', async () => {
    sink = httpSink({ name: 'crm', url: capture.url, secret: SECRET, timeoutMs: 2000 });
    const env = envelope();
    await sink.deliver(env);
    const firstSecond = Math.floor(Date.now() / 1000);
    await eventually(() => Math.floor(Date.now() / 1000) > firstSecond, { what: 'the next second' });
    await sink.deliver(env);
    const [a, b] = capture.requests;
    expect(a!.headers['webhook-id']).toBe(b!.headers['webhook-id']);
    expect(Number(b!.headers['webhook-timestamp'])).toBeGreaterThan(Number(a!.headers['webhook-timestamp']));
    expect(a!.headers['webhook-signature']).not.toBe(b!.headers['webhook-signature']);
    expect(new Webhook(SECRET).verify(b!.body, b!.headers)).toEqual(env);
  });

  it('sends webhook-id and webhook-timestamp without a secret, but no signature', async () => {
    sink = httpSink({ name: 'plain', url: capture.url, timeoutMs: 2000 });
    await sink.deliver(envelope());
    expect(capture.requests[0]!.headers['webhook-id']).toBeDefined();
    expect(capture.requests[0]!.headers['webhook-signature']).toBeUndefined();
  });

  it('fails on a 5xx, with the Retry-After, and never names the secret or the query string', async () => {
    sink = httpSink({ name: 'crm', url: `${capture.url}?token=hunter2`, secret: SECRET, timeoutMs: 2000 });
    capture.script([{ status: 503, retryAfter: '30' }]);
    const err = await failure(sink.deliver(envelope()));
    expect(err).toMatchObject({ sink: 'crm', retryAfterMs: 30_000 });
    expect(err.message).toContain('503');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain(SECRET);
  });

  it('treats a redirect as a failure and does not follow it', async () => {
    const other = await startCaptureServer();
    try {
      sink = httpSink({ name: 'crm', url: capture.url, timeoutMs: 2000 });
      capture.script([{ status: 307, location: other.url }]);
      expect((await failure(sink.deliver(envelope()))).message).toContain('307');
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('times out a receiver that does not answer', async () => {
    sink = httpSink({ name: 'slow', url: capture.url, timeoutMs: 200 });
    capture.script([{ status: 200, delayMs: 2000 }]);
    expect((await failure(sink.deliver(envelope()))).message).toContain('timed out');
  });
});

describe('file sink', () => {
  it('appends one JSON line per delivery, creating the folder', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'file-sink-')), 'nested', 'orders.jsonl');
    const sink = createFileSink({ type: 'file', name: 'archive', path });
    try {
      await sink.deliver(envelope(1));
      await sink.deliver(envelope(2));
    } finally {
      await sink.close();
    }
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([envelope(1).id, envelope(2).id]);
  });

  it('follows the file when log rotation moves it away', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
    const path = join(dir, 'orders.jsonl');
    const sink = createFileSink({ type: 'file', name: 'archive', path });
    try {
      await sink.deliver(envelope(1));
      renameSync(path, join(dir, 'orders.jsonl.1'));
      // Within the rotation check interval (1 s) a delivery lands in the new file.
      let n = 2;
      await eventually(
        async () => {
          await sink.deliver(envelope(n++));
          return existsSync(path);
        },
        { timeoutMs: 5000, intervalMs: 100, what: 'a new orders.jsonl' },
      );
    } finally {
      await sink.close();
    }
    const moved = readFileSync(join(dir, 'orders.jsonl.1'), 'utf8').trim().split('\n');
    const fresh = readFileSync(path, 'utf8').trim().split('\n');
    expect(JSON.parse(moved[0]!).id).toBe(envelope(1).id);
    expect(fresh).toHaveLength(1);
  });

  it('never tears or interleaves lines, within a process and across processes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'file-sink-')), 'orders.jsonl');
    // Large lines (~200 KiB) make a torn or interleaved write show up if the append were not one write.
    const big = (n: number) => ({ ...envelope(n), padding: 'x'.repeat(200_000) });
    const sink = createFileSink({ type: 'file', name: 'archive', path });
    const children = [1, 2, 3].map(
      (k) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(
            process.execPath,
            [join(import.meta.dirname, '../fixtures/processes/append-lines.mjs'), path, String(k), '40'],
            { stdio: 'inherit' },
          );
          child.on('exit', resolve);
        }),
    );
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => sink.deliver(big(i) as DeliveryEnvelope)));
      expect(await Promise.all(children)).toEqual([0, 0, 0]);
    } finally {
      await sink.close();
    }
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(160);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('redis-stream sink', () => {
  const url = inject('redisUrl');
  let redis: Redis;
  let stream: string;
  beforeEach(() => {
    redis = new Redis(url);
    stream = `${testPrefix()}:orders`;
  });
  afterEach(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('XADDs id, type and the whole envelope', async () => {
    const sink = createRedisStreamSink({ type: 'redis-stream', name: 's', stream, maxLen: 100 }, { redis });
    const env = envelope();
    await sink.deliver(env);
    const [[, fields]] = (await redis.xrange(stream, '-', '+')) as [[string, string[]]];
    expect(fields).toEqual(['id', env.id, 'type', 'order.aiDetection.completed', 'envelope', JSON.stringify(env)]);
    await sink.close();
    expect(redis.status).toBe('ready');
  });

  it('trims to about maxLen entries', async () => {
    const sink = createRedisStreamSink({ type: 'redis-stream', name: 's', stream, maxLen: 10 }, { redis });
    for (let i = 0; i < 300; i++) await sink.deliver(envelope(i));
    const len = await redis.xlen(stream);
    expect(len).toBeLessThan(300);
    expect(len).toBeGreaterThanOrEqual(10);
  });

  it('uses its own connection when the sink names a url, and closes it', async () => {
    const sink = createRedisStreamSink(
      { type: 'redis-stream', name: 's', stream, maxLen: 10, url },
      { redis: undefined as never },
    );
    await sink.deliver(envelope());
    expect(await redis.xlen(stream)).toBe(1);
    await sink.close();
  });
});

describe('stdout sink', () => {
  it('writes one JSON line per delivery to the stream it is given', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += c));
    const sink = createStdoutSink({ type: 'stdout', name: 'console' }, { out });
    await sink.deliver(envelope(1));
    await sink.deliver(envelope(2));
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual([envelope(1).id, envelope(2).id]);
  });
});
