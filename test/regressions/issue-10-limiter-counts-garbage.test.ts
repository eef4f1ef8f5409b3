import { afterEach, describe, expect, it } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const EVENT = JSON.stringify({ eventId: 'e-garbage', eventType: 'order.antiAi.completed', data: { orderId: '1' } });

/** Issue 10, point 4: 415s, 413s and malformed bodies were never counted by the unsigned-traffic limiter. */
describe('issue 10: everything that is not a valid signed event counts against the budget', () => {
  it('garbage (415, 413) exhausts the budget, the next unsigned request gets 429 with Retry-After, and signed MORI traffic still passes', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '3', WEBHOOK_BODY_LIMIT: '1024' });
    const unsigned = (payload: string, contentType: string) =>
      server!.postSigned(payload, { secret: false, headers: { 'content-type': contentType } });
    const codes = [
      (await unsigned('x', 'text/plain')).statusCode,
      (await unsigned('y', 'text/plain')).statusCode,
      (await unsigned(`"${'z'.repeat(2000)}"`, 'application/json')).statusCode,
    ];
    expect(codes).toEqual([415, 415, 413]);
    const limited = await unsigned('again', 'text/plain');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await server.postSigned(EVENT)).statusCode).toBe(200);
  });
});
