import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { rateLimitNamespace } from '../../src/keys.js';
import { intakeKey, receivedKey } from '../../src/keys.js';
import { EVENTS_QUEUE } from '../../src/queues.js';
import { buildTestServer, TEST_SECRET, type TestServer } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { moriSign } from '../helpers/mori-signer.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/events', name), 'utf8');
const CURRENT = fixture('current-antiAi-completed.json');
const LEGACY = fixture('legacy-processed.json');
const LEGACY_TOP_LEVEL = fixture('legacy-anti-ai-processed-top-level-id.json');

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

function post(body: string, headers: Record<string, string> = {}, { sign = true, secret = TEST_SECRET } = {}) {
  return server.postSigned(body, { headers, secret: sign && secret });
}

/** The jobs the events queue holds once a worker has promoted the intake. */
async function jobs() {
  await server.promote();
  return server.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
}

describe('POST /webhooks/mori', () => {
  describe('a valid, signed, new event', () => {
    it("answers 200 in MORI's envelope with the job already in Redis", async () => {
      server = await buildTestServer();
      const res = await post(CURRENT);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        success: true,
        message: 'event received',
        data: { eventId: '550e8400-e29b-41d4-a716-446655440000', duplicate: false },
      });
      const queued = await jobs();
      expect(queued).toHaveLength(1);
      expect(queued[0]!.id).toMatch(/^evt-[0-9a-f-]{36}$/);
      expect(queued[0]!.data).toMatchObject({
        eventId: '550e8400-e29b-41d4-a716-446655440000',
        eventType: 'order.antiAi.completed',
        orderId: '1234567890123456789',
        occurredAt: '2026-02-19T12:00:00.000Z',
        generation: 'current',
      });
    });

    it('keeps presigned URLs out of the job: they are bearer secrets', async () => {
      server = await buildTestServer();
      await post(CURRENT);
      const [job] = await jobs();
      expect(JSON.stringify(job!.data)).not.toContain('presigned');
      expect(JSON.stringify(job!.data)).not.toContain('downloadUrl');
    });

    it.each([
      ['ORDER.PROCESSED with data.orderId', LEGACY, '1234567890123456792'],
      ['ORDER.ANTI_AI.PROCESSED with a top-level orderId', LEGACY_TOP_LEVEL, '1234567890123456793'],
    ])('accepts the legacy generation: %s', async (_name, body, orderId) => {
      server = await buildTestServer();
      const res = await post(body);
      expect(res.statusCode).toBe(200);
      const [job] = await jobs();
      expect(job!.data).toMatchObject({ orderId, generation: 'legacy' });
    });

    it.each(readdirSync(join(import.meta.dirname, '../fixtures/events')))(
      'accepts the fixture %s, as MORI sends it',
      async (name) => {
        server = await buildTestServer();
        const body = fixture(name);
        const res = await server.postSigned(body);
        expect(res.statusCode).toBe(200);
        const [job] = await jobs();
        expect(job!.data).toMatchObject({
          eventId: JSON.parse(body).eventId,
          generation: name.startsWith('legacy') ? 'legacy' : 'current',
        });
      },
    );

    it('accepts the legacy X-Mori-Signature header', async () => {
      server = await buildTestServer();
      const res = await post(LEGACY, { 'x-mori-signature': moriSign(LEGACY, TEST_SECRET) }, { sign: false });
      expect(res.statusCode).toBe(200);
      expect(await jobs()).toHaveLength(1);
    });

    it('accepts every secret of a rotation', async () => {
      const next = 'whsec_the_next_secret_after_rotation';
      server = await buildTestServer({ MORI_WEBHOOK_SECRET: `${TEST_SECRET},${next}` });
      expect((await post(CURRENT, {}, { secret: next })).statusCode).toBe(200);
      expect((await post(LEGACY, {}, { secret: TEST_SECRET })).statusCode).toBe(200);
      expect(await jobs()).toHaveLength(2);
    });

    it('accepts a body re-indented on the way when MORI signed its compact form, and counts it', async () => {
      server = await buildTestServer();
      const pretty = JSON.stringify(JSON.parse(CURRENT), null, 2);
      const res = await post(pretty, { 'x-moribiz-signature': moriSign(CURRENT, TEST_SECRET) }, { sign: false });
      expect(res.statusCode).toBe(200);
      const text = await server.metrics.registry.getSingleMetricAsString('mori_webhook_signature_checks_total');
      expect(text).toContain('result="compact"} 1');
    });

    it('accepts a numeric order id that is a safe integer, as a string', async () => {
      server = await buildTestServer();
      const body = JSON.stringify({ eventId: 'e-1', eventType: 'order.antiAi.completed', data: { orderId: 12345 } });
      expect((await post(body)).statusCode).toBe(200);
      const [job] = await jobs();
      expect(job!.data.orderId).toBe('12345');
    });
  });

  describe('duplicates', () => {
    it('answers 200 with duplicate: true and enqueues nothing new', async () => {
      server = await buildTestServer();
      await post(CURRENT);
      const res = await post(CURRENT);
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toEqual({ eventId: '550e8400-e29b-41d4-a716-446655440000', duplicate: true });
      expect(await jobs()).toHaveLength(1);
    });

    it('dedupes by eventId even when the bytes differ', async () => {
      server = await buildTestServer();
      const event = JSON.parse(CURRENT);
      await post(JSON.stringify(event));
      const res = await post(JSON.stringify({ ...event, occurredAt: '2026-02-19T12:00:09.000Z' }));
      expect(res.json().data.duplicate).toBe(true);
      expect(await jobs()).toHaveLength(1);
    });

    it("remembers the eventId after the job completed, with the window as the key's TTL", async () => {
      server = await buildTestServer({ DEDUPE_WINDOW_SECONDS: '3600' });
      await post(CURRENT);
      await server.promote();
      const worker = new Worker(EVENTS_QUEUE, async () => 'done', {
        connection: { url: inject('redisUrl') },
        prefix: server.config.REDIS_PREFIX,
      });
      try {
        await eventually(async () => (await server.queue.getCompletedCount()) === 1, { what: 'the job to complete' });
      } finally {
        await worker.close();
      }
      const res = await post(CURRENT);
      expect(res.json().data.duplicate).toBe(true);
      expect(await jobs()).toHaveLength(1);
      // Both marks: the intake's, which answers MORI's copies, and the events queue's, which keeps a
      // second promotion of the same entry (a worker that died before acknowledging it) from queueing it twice.
      for (const key of [
        receivedKey(server.config.REDIS_PREFIX, '550e8400-e29b-41d4-a716-446655440000'),
        `${server.config.REDIS_PREFIX}:${EVENTS_QUEUE}:de:550e8400-e29b-41d4-a716-446655440000`,
      ]) {
        const ttl = await server.producer.pttl(key);
        expect(ttl, key).toBeGreaterThan(3500_000);
        expect(ttl, key).toBeLessThanOrEqual(3600_000);
      }
    });

    it("gives an event without eventId an id derived from its bytes, so MORI's retry dedupes", async () => {
      server = await buildTestServer();
      const body = JSON.stringify({ eventType: 'order.antiAi.completed', data: { orderId: '42' } });
      const first = await post(body);
      const second = await post(body);
      expect(first.json().data.eventId).toMatch(/^sha256-[0-9a-f]{64}$/);
      expect(second.json().data).toEqual({ eventId: first.json().data.eventId, duplicate: true });
      const queued = await jobs();
      expect(queued).toHaveLength(1);
      expect(queued[0]!.data.eventId).toBe(first.json().data.eventId);
    });

    it('turns a storm of 20 concurrent copies into exactly one job', async () => {
      server = await buildTestServer();
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(CURRENT)));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
      expect(answers.filter((a) => a.json().data.duplicate === false)).toHaveLength(1);
      expect(await jobs()).toHaveLength(1);
    });
  });

  describe('concurrent webhooks share one Redis write (src/webhook/intake.ts)', () => {
    it('each is answered for itself: every new event accepted with its own job, every repeat a duplicate', async () => {
      server = await buildTestServer();
      const events = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({ eventId: `batch-${i}`, eventType: 'order.antiAi.completed', data: { orderId: `${100 + i}` } }),
      );
      // Each event twice, all at once: the repeats land in the same batch as their first copy.
      const answers = await Promise.all([...events, ...events].map((body) => post(body)));
      expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
      const fresh = answers.filter((a) => a.json().data.duplicate === false).map((a) => a.json().data.eventId);
      expect(fresh.sort()).toEqual(events.map((_, i) => `batch-${i}`).sort());
      const queued = await jobs();
      expect(queued).toHaveLength(30);
      expect(new Set(queued.map((j) => j.data.eventId)).size).toBe(30);
    });
  });

  describe('an event type this receiver does not handle', () => {
    it('answers 200 ignored, enqueues nothing and counts it', async () => {
      server = await buildTestServer();
      const body = JSON.stringify({ eventId: 'u-1', eventType: 'order.antiAi.started', data: { orderId: '1' } });
      const res = await post(body);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, data: { eventId: 'u-1', duplicate: false, ignored: true } });
      expect(res.json().message).toContain('order.antiAi.started');
      expect(await jobs()).toHaveLength(0);
      const text = await server.metrics.registry.getSingleMetricAsString('mori_webhook_events_total');
      expect(text).toContain('outcome="ignored",event_type="other"} 1');
    });
  });

  describe('signatures', () => {
    it.each([
      ['missing', {}, 'SIGNATURE_MISSING'],
      ['wrong', { 'x-moribiz-signature': moriSign(CURRENT, 'whsec_some_other_secret') }, 'SIGNATURE_INVALID'],
      ['truncated', { 'x-moribiz-signature': moriSign(CURRENT, TEST_SECRET).slice(0, 40) }, 'SIGNATURE_INVALID'],
      ['not hex', { 'x-moribiz-signature': 'z'.repeat(64) }, 'SIGNATURE_INVALID'],
      [
        'in upper-case hex of the right value, but for another body',
        { 'x-moribiz-signature': moriSign('{}', TEST_SECRET).toUpperCase() },
        'SIGNATURE_INVALID',
      ],
    ])('answers 401 when the signature is %s, and enqueues nothing', async (_what, headers, code) => {
      server = await buildTestServer();
      const res = await post(CURRENT, headers, { sign: false });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ success: false, code });
      expect(await jobs()).toHaveLength(0);
    });

    it('answers 401 for a tampered body', async () => {
      server = await buildTestServer();
      const tampered = CURRENT.replace('1234567890123456789', '1234567890123456788');
      const res = await post(tampered, { 'x-moribiz-signature': moriSign(CURRENT, TEST_SECRET) }, { sign: false });
      expect(res.statusCode).toBe(401);
      expect(await jobs()).toHaveLength(0);
    });

    it('checks the signature before reading the body, so unsigned garbage is a 401, not a 400', async () => {
      server = await buildTestServer();
      const res = await post('not json', {}, { sign: false });
      expect(res.statusCode).toBe(401);
    });

    it('with MORI_WEBHOOK_ALLOW_UNSIGNED and no secret, accepts unsigned events', async () => {
      server = await buildTestServer({ MORI_WEBHOOK_SECRET: '', MORI_WEBHOOK_ALLOW_UNSIGNED: 'true' });
      expect((await post(CURRENT, {}, { sign: false })).statusCode).toBe(200);
    });
  });

  describe('bad input', () => {
    it.each([
      ['not JSON', '{"eventId": ', 'INVALID_JSON', null],
      ['a JSON array', '[]', 'INVALID_PAYLOAD', '(body)'],
      ['no eventType', '{"eventId":"x","data":{"orderId":"1"}}', 'INVALID_PAYLOAD', 'eventType'],
      ['eventType not a string', '{"eventType":5}', 'INVALID_PAYLOAD', 'eventType'],
      [
        'no order id',
        '{"eventId":"x","eventType":"order.antiAi.completed","data":{}}',
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'a legacy event with no order id',
        '{"eventId":"x","eventType":"ORDER.PROCESSED"}',
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'an order id beyond the safe integers',
        '{"eventId":"x","eventType":"order.antiAi.completed","data":{"orderId":1234567890123456789}}',
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'an order id with a path in it',
        '{"eventId":"x","eventType":"order.antiAi.completed","data":{"orderId":"../admin"}}',
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'an order id that is too long',
        `{"eventId":"x","eventType":"order.antiAi.completed","data":{"orderId":"${'1'.repeat(65)}"}}`,
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'a negative order id',
        '{"eventId":"x","eventType":"order.antiAi.completed","data":{"orderId":-5}}',
        'INVALID_PAYLOAD',
        'data.orderId',
      ],
      [
        'an eventId with a Redis-key separator',
        '{"eventId":"a:b c","eventType":"order.antiAi.completed","data":{"orderId":"1"}}',
        'INVALID_PAYLOAD',
        'eventId',
      ],
      [
        'occurredAt of the wrong type',
        '{"eventId":"x","eventType":"order.antiAi.completed","occurredAt":5,"data":{"orderId":"1"}}',
        'INVALID_PAYLOAD',
        'occurredAt',
      ],
    ])('answers 400 for %s, naming the field', async (_what, body, code, propertyName) => {
      server = await buildTestServer();
      const res = await post(body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ success: false, code, errors: { propertyName } });
      if (propertyName) expect(res.json().message).toContain(propertyName);
      expect(await jobs()).toHaveLength(0);
    });

    it('answers 415 for a body that is not application/json', async () => {
      server = await buildTestServer();
      const res = await post(CURRENT, { 'content-type': 'text/plain' });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ success: false, code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it('answers 413 for a body over the limit', async () => {
      server = await buildTestServer({ WEBHOOK_BODY_LIMIT: '2048' });
      const big = JSON.stringify({
        eventId: 'big',
        eventType: 'order.antiAi.completed',
        data: { orderId: '1', pad: 'x'.repeat(4096) },
      });
      const res = await post(big);
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ success: false, code: 'BODY_TOO_LARGE' });
      expect(await jobs()).toHaveLength(0);
    });

    it('accepts application/json with a charset', async () => {
      server = await buildTestServer();
      const res = await post(CURRENT, { 'content-type': 'application/json; charset=utf-8' });
      expect(res.statusCode).toBe(200);
    });
  });

  describe('rate limiting', () => {
    it('limits unsigned traffic per client and never limits signed MORI traffic', async () => {
      server = await buildTestServer({ RATE_LIMIT_MAX: '3' });
      const forged = await Promise.all(Array.from({ length: 5 }, () => post(CURRENT, {}, { sign: false })));
      expect(forged.map((r) => r.statusCode).sort()).toEqual([401, 401, 401, 429, 429]);
      const limited = forged.find((r) => r.statusCode === 429)!;
      expect(limited.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
      const signed = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          post(
            JSON.stringify({
              eventId: `burst-${i}`,
              eventType: 'order.antiAi.completed',
              data: { orderId: String(i) },
            }),
          ),
        ),
      );
      expect(signed.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    });

    it('once the store says a client is over, the rest of its window is answered without asking it again', async () => {
      server = await buildTestServer({ RATE_LIMIT_MAX: '3' });
      const codes: number[] = [];
      // Forged: a signature header that is checked and fails, so each request would count.
      for (let i = 0; i < 10; i++) codes.push((await post(CURRENT, {}, { secret: 'whsec_forged_xx' })).statusCode);
      expect(codes).toEqual([401, 401, 401, ...Array(7).fill(429)]);
      const [key] = await server.producer.keys(`${rateLimitNamespace(server.config.REDIS_PREFIX)}*`);
      // The fourth went past the budget; the six after it never reached Redis.
      expect(await server.producer.get(key!)).toBe('4');
      expect((await post(CURRENT)).statusCode).toBe(200);
    });
  });

  describe('metrics', () => {
    it('counts accepted, duplicate and rejected events', async () => {
      server = await buildTestServer();
      await post(CURRENT);
      await post(CURRENT);
      await post(CURRENT, {}, { sign: false });
      const res = await server.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('mori_webhook_events_total{outcome="accepted",event_type="order.antiAi.completed"} 1');
      expect(res.body).toContain(
        'mori_webhook_events_total{outcome="duplicate",event_type="order.antiAi.completed"} 1',
      );
      expect(res.body).toContain('mori_webhook_rejections_total{code="SIGNATURE_MISSING"} 1');
    });
  });

  it('uses keys under the {hash-tag} prefix only', async () => {
    server = await buildTestServer();
    await post(CURRENT);
    expect(await server.producer.keys(`${server.config.REDIS_PREFIX}:*`)).toEqual(
      expect.arrayContaining([
        intakeKey(server.config.REDIS_PREFIX),
        receivedKey(server.config.REDIS_PREFIX, '550e8400-e29b-41d4-a716-446655440000'),
      ]),
    );
    await server.promote();
    const keys = await server.producer.keys(`${server.config.REDIS_PREFIX}:${EVENTS_QUEUE}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.includes(':de:550e8400-e29b-41d4-a716-446655440000'))).toBe(true);
  });
});

describe('GET /healthz and /readyz', () => {
  it('answers 200 for both while Redis answers', async () => {
    server = await buildTestServer();
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it("answers 404 in MORI's envelope for an unknown route", async () => {
    server = await buildTestServer();
    const res = await server.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });
});
