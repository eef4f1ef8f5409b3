import { afterEach, describe, expect, it } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Two forged requests from what the service takes to be one client, the budget being one. */
async function secondIsLimited(xff: [string, string], remoteAddress = '10.0.0.5'): Promise<boolean> {
  const forged = (forwardedFor: string) =>
    server!.app.inject({
      method: 'POST',
      url: '/webhooks/mori',
      remoteAddress,
      headers: {
        'content-type': 'application/json',
        'x-moribiz-signature': 'ab'.repeat(32),
        'x-forwarded-for': forwardedFor,
      },
      payload: '{}',
    });
  expect((await forged(xff[0])).statusCode).toBe(401);
  return (await forged(xff[1])).statusCode === 429;
}

describe('TRUST_PROXY decides whose address the limiters count', () => {
  it('false: the socket address, whatever X-Forwarded-For says', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: 'false' });
    expect(await secondIsLimited(['203.0.113.1', '203.0.113.2'])).toBe(true);
  });

  it('true: the first X-Forwarded-For address, so a client forging it gets a budget per forged address', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' });
    expect(await secondIsLimited(['198.51.100.7, 203.0.113.1', '198.51.100.8, 203.0.113.1'])).toBe(false);
    await server.close();
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' });
    expect(await secondIsLimited(['198.51.100.7, 203.0.113.1', '198.51.100.7, 203.0.113.2'])).toBe(true);
  });

  it('a hop count of 1: the address the one proxy saw, so two clients behind it have two budgets', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '1' });
    expect(await secondIsLimited(['203.0.113.1', '203.0.113.2'])).toBe(false);
  });

  it('a hop count of 1: a client forging the header is still counted by the address the proxy appended', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '1' });
    expect(await secondIsLimited(['198.51.100.7, 203.0.113.1', '198.51.100.8, 203.0.113.1'])).toBe(true);
  });

  it('a list: the header is believed only from a listed proxy', async () => {
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '10.0.0.0/8' });
    expect(await secondIsLimited(['203.0.113.1', '203.0.113.2'])).toBe(false);
    await server.close();
    server = await buildTestServer({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '10.0.0.0/8' });
    expect(await secondIsLimited(['203.0.113.1', '203.0.113.2'], '192.0.2.50')).toBe(true);
  });
});
