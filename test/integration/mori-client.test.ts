import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MoriApiError, createMoriClient, type MoriClient } from '../../src/mori/mori-client.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { rejectionOf } from '../helpers/rejection-of.js';

const ORDER_ID = '1234567890123456789';
let mori: FakeMori;
let client: MoriClient;
let outcomes: string[];

beforeEach(async () => {
  mori = await startFakeMori();
  outcomes = [];
  client = createMoriClient({
    baseUrl: mori.url,
    token: mori.token,
    timeoutMs: 500,
    onCall: ({ purpose, endpoint, status }) => outcomes.push(`${purpose} ${endpoint} ${status}`),
  });
});
afterEach(async () => {
  await client.close();
  await mori.close();
});

const failure = (promise: Promise<unknown>) => rejectionOf(promise, MoriApiError);

describe('createMoriClient().getOrder', () => {
  it.each(['antiAi', 'watermarkEmbed', 'watermarkExtract', 'aiDetection'] as const)(
    'returns a %s order with every field MORI sent, known or not',
    async (type) => {
      const order = { ...finalOrder(ORDER_ID, type), someFieldAddedLater: { nested: [1, 2] } };
      mori.setOrder(order);
      expect(await client.getOrder(ORDER_ID, 'lookup')).toEqual(order);
      const [req] = mori.requests;
      expect(req).toMatchObject({
        method: 'GET',
        path: `/api/v3/orders/${ORDER_ID}`,
        authorization: `Bearer ${mori.token}`,
      });
    },
  );

  it('keeps a 19-digit order id a string end to end', async () => {
    mori.setOrder(finalOrder('9223372036854775807'));
    expect((await client.getOrder('9223372036854775807', 'lookup')).orderId).toBe('9223372036854775807');
  });

  it('refuses an order id outside the safe pattern without calling MORI', async () => {
    const err = await failure(client.getOrder('../admin', 'lookup'));
    expect(err.kind).toBe('client');
    expect(mori.requests).toHaveLength(0);
  });

  it("turns 404 into not-found, with MORI's code in the message", async () => {
    const err = await failure(client.getOrder(ORDER_ID, 'lookup'));
    expect(err).toMatchObject({ kind: 'not-found', status: 404, moriCode: 'ORDER_NOT_FOUND' });
    expect(err.message).toContain('ORDER_NOT_FOUND');
    expect(mori.requests).toHaveLength(1);
  });

  it.each([401, 403])('turns %i into auth, without retrying', async (status) => {
    mori.script(ORDER_ID, [{ status }]);
    const err = await failure(client.getOrder(ORDER_ID, 'lookup'));
    expect(err).toMatchObject({ kind: 'auth', status });
    expect(mori.requests).toHaveLength(1);
  });

  it('turns a wrong token into auth and never puts the token in the message', async () => {
    const wrong = createMoriClient({ baseUrl: mori.url, token: 'sk_live_super_secret_token', timeoutMs: 500 });
    try {
      const err = await failure(wrong.getOrder(ORDER_ID, 'lookup'));
      expect(err.kind).toBe('auth');
      expect(err.message).not.toContain('sk_live_super_secret_token');
    } finally {
      await wrong.close();
    }
  });

  it('does not retry other 4xx', async () => {
    mori.script(ORDER_ID, [{ status: 400 }]);
    expect((await failure(client.getOrder(ORDER_ID, 'lookup'))).kind).toBe('client');
    expect(mori.requests).toHaveLength(1);
  });

  it('never retries by itself: a 503 is one call, retryable, counted with its purpose', async () => {
    mori.script(ORDER_ID, [{ status: 503 }]);
    const err = await failure(client.getOrder(ORDER_ID, 'retry'));
    expect(err).toMatchObject({ kind: 'retryable', status: 503 });
    expect(mori.requests).toHaveLength(1);
    expect(outcomes).toEqual(['retry GET /api/v3/orders/{id} 503']);
  });

  it('reads the deprecated v2 detail when told to', async () => {
    const v2 = createMoriClient({ baseUrl: mori.url, token: mori.token, timeoutMs: 500, apiVersion: 'v2' });
    try {
      mori.setOrder(finalOrder(ORDER_ID));
      await v2.getOrder(ORDER_ID, 'lookup');
      expect(mori.requests[0]?.path).toBe(`/api/v2/orders/${ORDER_ID}`);
    } finally {
      await v2.close();
    }
  });

  it('turns RATE_LIMIT_EXCEEDED into rate-limited, with a Retry-After when MORI sends one', async () => {
    mori.script(ORDER_ID, [
      { status: 429, body: { code: 'RATE_LIMIT_EXCEEDED' }, retryAfter: '7' },
      { status: 429, body: { code: 'RATE_LIMIT_EXCEEDED' } },
    ]);
    expect(await failure(client.getOrder(ORDER_ID, 'lookup'))).toMatchObject({
      kind: 'rate-limited',
      moriCode: 'RATE_LIMIT_EXCEEDED',
      retryAfterMs: 7000,
    });
    expect(await failure(client.getOrder(ORDER_ID, 'retry'))).toMatchObject({
      kind: 'rate-limited',
      retryAfterMs: undefined,
    });
  });

  it.each([
    [429, 'USAGE_LIMIT_EXCEEDED'],
    [400, 'USAGE_LIMIT_EXCEEDED'],
    [400, 'USAGE_NOT_ENOUGH'],
    [429, 'PLAN_LIMIT_EXCEEDED'],
  ])('decides a spent quota by the code, not the status (%i %s)', async (status, code) => {
    mori.script(ORDER_ID, [{ status, body: { code } }]);
    expect(await failure(client.getOrder(ORDER_ID, 'lookup'))).toMatchObject({ kind: 'quota', moriCode: code, status });
  });

  it('reports Deprecation and Sunset headers', async () => {
    const notices: unknown[] = [];
    const watched = createMoriClient({
      baseUrl: mori.url,
      token: mori.token,
      timeoutMs: 500,
      onDeprecation: (n) => notices.push(n),
    });
    try {
      mori.script(ORDER_ID, [
        { order: finalOrder(ORDER_ID), headers: { deprecation: 'true', sunset: 'Fri, 09 Oct 2026 00:00:00 GMT' } },
      ]);
      await watched.getOrder(ORDER_ID, 'lookup');
      expect(notices).toEqual([
        { endpoint: 'GET /api/v3/orders/{id}', deprecation: 'true', sunset: 'Fri, 09 Oct 2026 00:00:00 GMT' },
      ]);
    } finally {
      await watched.close();
    }
  });

  it('times out a look-up that takes longer than timeoutMs', async () => {
    mori.setOrder(finalOrder(ORDER_ID));
    mori.script(ORDER_ID, [{ delayMs: 2000 }]);
    const err = await failure(client.getOrder(ORDER_ID, 'lookup'));
    expect(err.kind).toBe('retryable');
    expect(err.message).toContain('timed out');
    expect(outcomes).toEqual(['lookup GET /api/v3/orders/{id} timeout']);
  });

  it('refuses a 200 that is not an order, and never echoes presigned URLs', async () => {
    mori.script(ORDER_ID, [
      { order: { orderId: ORDER_ID, type: 'antiAi', thumbnailImageUrl: 'https://x/?X-Amz-Signature=abc' } },
    ]);
    const err = await failure(client.getOrder(ORDER_ID, 'lookup'));
    expect(err.kind).toBe('invalid-response');
    expect(err.message).toMatch(/data\.(status|updatedAt)/);
    expect(err.message).not.toContain('X-Amz-Signature');
  });

  it('refuses an answer about another order', async () => {
    mori.script(ORDER_ID, [{ order: finalOrder('42') }]);
    expect((await failure(client.getOrder(ORDER_ID, 'lookup'))).kind).toBe('invalid-response');
  });
});
