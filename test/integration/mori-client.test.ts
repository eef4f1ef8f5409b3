import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MoriApiError, createMoriClient, type MoriClient } from '../../src/mori/mori-client.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { freePort } from '../helpers/redis-server.js';

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
    quickRetryBaseMs: 10,
    quickRetryCapMs: 200,
    onResponse: ({ status }) => outcomes.push(status),
  });
});
afterEach(async () => {
  await client.close();
  await mori.close();
});

async function failure(promise: Promise<unknown>): Promise<MoriApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MoriApiError) return err;
    throw err;
  }
  throw new Error('expected a MoriApiError');
}

describe('createMoriClient().getOrder', () => {
  it.each(['antiAi', 'watermarkEmbed', 'watermarkExtract', 'aiDetection'] as const)(
    'returns a %s order with every field MORI sent, known or not',
    async (type) => {
      const order = { ...finalOrder(ORDER_ID, type), someFieldAddedLater: { nested: [1, 2] } };
      mori.setOrder(order);
      expect(await client.getOrder(ORDER_ID)).toEqual(order);
      const [req] = mori.requests;
      expect(req).toMatchObject({ method: 'GET', path: `/api/v2/orders/${ORDER_ID}`, authorization: `Bearer ${mori.token}` });
    },
  );

  it('keeps a 19-digit order id a string end to end', async () => {
    mori.setOrder(finalOrder('9223372036854775807'));
    expect((await client.getOrder('9223372036854775807')).orderId).toBe('9223372036854775807');
  });

  it('refuses an order id outside the safe pattern without calling MORI', async () => {
    const err = await failure(client.getOrder('../admin'));
    expect(err.kind).toBe('client');
    expect(mori.requests).toHaveLength(0);
  });

  it('turns 404 into not-found, with MORI\'s code in the message', async () => {
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err).toMatchObject({ kind: 'not-found', status: 404, moriCode: 'ORDER_NOT_FOUND' });
    expect(err.message).toContain('ORDER_NOT_FOUND');
    expect(mori.requests).toHaveLength(1);
  });

  it.each([401, 403])('turns %i into auth, without retrying', async (status) => {
    mori.script(ORDER_ID, [{ status }]);
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err).toMatchObject({ kind: 'auth', status });
    expect(mori.requests).toHaveLength(1);
  });

  it('turns a wrong token into auth and never puts the token in the message', async () => {
    const wrong = createMoriClient({ baseUrl: mori.url, token: 'sk_live_super_secret_token', timeoutMs: 500 });
    try {
      const err = await failure(wrong.getOrder(ORDER_ID));
      expect(err.kind).toBe('auth');
      expect(err.message).not.toContain('sk_live_super_secret_token');
    } finally {
      await wrong.close();
    }
  });

  it('does not retry other 4xx', async () => {
    mori.script(ORDER_ID, [{ status: 400 }]);
    expect((await failure(client.getOrder(ORDER_ID))).kind).toBe('client');
    expect(mori.requests).toHaveLength(1);
  });

  it('retries a 503 quickly and returns the order', async () => {
    mori.setOrder(finalOrder(ORDER_ID));
    mori.script(ORDER_ID, [{ status: 503 }, { status: 502 }]);
    expect((await client.getOrder(ORDER_ID)).orderId).toBe(ORDER_ID);
    expect(outcomes).toEqual(['503', '502', '200']);
  });

  it('gives up after its quick retries with a retryable error', async () => {
    mori.script(ORDER_ID, [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err).toMatchObject({ kind: 'retryable', status: 500 });
    expect(mori.requests).toHaveLength(3);
  });

  it('waits out a short Retry-After on 429', async () => {
    mori.setOrder(finalOrder(ORDER_ID));
    mori.script(ORDER_ID, [{ status: 429, retryAfter: '0' }]);
    expect((await client.getOrder(ORDER_ID)).orderId).toBe(ORDER_ID);
    expect(mori.requests).toHaveLength(2);
  });

  it('hands a long Retry-After to the caller instead of sleeping on it', async () => {
    mori.script(ORDER_ID, [{ status: 429, retryAfter: '120' }]);
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err).toMatchObject({ kind: 'retryable', status: 429, retryAfterMs: 120_000 });
    expect(mori.requests).toHaveLength(1);
  });

  it('times out a look-up that takes longer than timeoutMs', async () => {
    mori.setOrder(finalOrder(ORDER_ID));
    mori.script(ORDER_ID, [{ delayMs: 2000 }, { delayMs: 2000 }, { delayMs: 2000 }]);
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err.kind).toBe('retryable');
    expect(err.message).toContain('timed out');
    expect(outcomes).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('treats a refused connection as retryable', async () => {
    const closed = createMoriClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: 't', timeoutMs: 500, quickRetries: 0 });
    try {
      const err = await failure(closed.getOrder(ORDER_ID));
      expect(err.kind).toBe('retryable');
      expect(err.message).toContain('ECONNREFUSED');
    } finally {
      await closed.close();
    }
  });

  it('refuses a 200 that is not an order, and never echoes presigned URLs', async () => {
    mori.script(ORDER_ID, [{ order: { orderId: ORDER_ID, type: 'antiAi', thumbnailImageUrl: 'https://x/?X-Amz-Signature=abc' } }]);
    const err = await failure(client.getOrder(ORDER_ID));
    expect(err.kind).toBe('invalid-response');
    expect(err.message).toMatch(/data\.(status|updatedAt)/);
    expect(err.message).not.toContain('X-Amz-Signature');
  });

  it('refuses an answer about another order', async () => {
    mori.script(ORDER_ID, [{ order: finalOrder('42') }]);
    expect((await failure(client.getOrder(ORDER_ID))).kind).toBe('invalid-response');
  });
});
