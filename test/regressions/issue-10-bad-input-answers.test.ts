import { afterEach, describe, expect, it } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';
import { moriSign } from '../helpers/mori-signer.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/**
 * Issue 10, points 1 and 2: a 10,000-deep forged body crashed the compact-JSON fallback into a 500;
 * malformed JSON on other routes answered 500; a malformed URL escape got Fastify's own body.
 */
describe('issue 10: bad input is answered in the envelope, never with a 5xx', () => {
  it('a 10,000-deep body with a wrong signature is a 401, not a 500', async () => {
    server = await buildTestServer();
    const body = deep(10_000);
    const res = await server.postSigned(body, { secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'SIGNATURE_INVALID' });
  });

  it('a re-indented deep body with a wrong signature is refused without parsing it', async () => {
    server = await buildTestServer();
    const body = `${'[\n'.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await server.postSigned(body, {
      headers: { 'x-moribiz-signature': moriSign('x', 'not-the-secret') },
    });
    expect(res.statusCode).toBe(401);
  });

  it('a correctly signed body nested past 32 levels is a 400 naming the limit', async () => {
    server = await buildTestServer();
    const body = deep(40);
    const res = await server.postSigned(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_PAYLOAD', message: expect.stringContaining('32 levels') });
  });

  it.each(['/healthz', '/nope'])('malformed JSON posted to %s is answered in the envelope with a 4xx', async (url) => {
    server = await buildTestServer();
    const res = await server.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: '{"broken"',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json()).toMatchObject({ success: false, code: expect.stringMatching(/^(INVALID_JSON|NOT_FOUND)$/) });
  });

  it('a malformed URL escape is a 400 in the envelope', async () => {
    server = await buildTestServer();
    const res = await server.app.inject({
      method: 'POST',
      url: '/webhooks/mori%E0%A4%A',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, code: 'BAD_REQUEST', errors: { propertyName: null } });
  });
});
