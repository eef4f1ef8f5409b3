import { afterEach, describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/redact-secrets.js';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';

const TOKEN = 'admin-token-for-tests-0123456789';
let server: TestServer;
afterEach(async () => {
  await server?.close();
});

const get = (url: string, authorization?: string) =>
  server.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

describe('the admin dashboard', () => {
  it('does not exist without ADMIN_TOKEN', async () => {
    server = await buildTestServer();
    expect((await get('/admin/queues')).statusCode).toBe(404);
    expect((await get('/admin/queues/api/queues')).statusCode).toBe(404);
  });

  describe('with ADMIN_TOKEN', () => {
    it("refuses every route without the token, the UI's own files included", async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/main.js']) {
        const res = await get(url);
        expect(res.statusCode, url).toBe(401);
        expect(res.headers['www-authenticate']).toContain('Basic');
      }
      expect((await get('/admin/queues', 'Bearer wrong-token-of-some-length-xx')).statusCode).toBe(401);
    });

    it('serves the dashboard and its API with the token as Bearer or Basic password', async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      expect((await get('/admin/queues', `Bearer ${TOKEN}`)).statusCode).toBe(200);
      const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
      const api = await get('/admin/queues/api/queues', basic);
      expect(api.statusCode).toBe(200);
      expect(api.json().queues.map((q: { name: string }) => q.name)).toContain('mori-events');
      expect(api.json().queues[0].readOnlyMode).toBe(true);
    });

    it('rate-limits wrong guesses per client, with Retry-After, and never the right token', async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) codes.push((await get('/admin/queues', `Bearer guess-${i}`)).statusCode);
      expect(codes).toEqual([...Array(10).fill(401), 429]);
      const locked = await get('/admin/queues', 'Bearer guess-12');
      expect(locked.statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(locked.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
      expect((await get('/admin/queues', `Bearer ${TOKEN}`)).statusCode).toBe(200);
    });

    it('answers a locked-out browser with a page saying when to try again', async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      const wrong = `Basic ${Buffer.from('ops:wrong-password').toString('base64')}`;
      const browser = () =>
        server.app.inject({
          method: 'GET',
          url: '/admin/orders',
          headers: { authorization: wrong, accept: 'text/html' },
        });
      for (let i = 0; i < 10; i++) expect((await browser()).statusCode).toBe(401);
      const page = await browser();
      expect(page.statusCode).toBe(429);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain(`Try again in ${page.headers['retry-after']} s`);
    });

    it('does not count requests without credentials: they get the challenge for free', async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      for (let i = 0; i < 25; i++) {
        const res = await get(i % 2 ? '/admin/queues' : '/admin/queues/queue/mori-events?status=completed');
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
      }
      // The whole budget of wrong guesses is still there.
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) codes.push((await get('/admin/queues', `Bearer guess-${i}`)).statusCode);
      expect(codes).toEqual([...Array(10).fill(401), 429]);
    });
  });
});

describe('redactSecrets', () => {
  it('hides presigned URLs and tokens at any depth and keeps the rest', () => {
    expect(
      redactSecrets({
        orderId: '1',
        order: {
          thumbnailImageUrl: 'https://x/?sig',
          downloadUrl: null,
          fileCount: 3,
          nested: [{ heatmapUrl: 'https://y' }],
        },
      }),
    ).toEqual({
      orderId: '1',
      order: {
        thumbnailImageUrl: '[redacted]',
        downloadUrl: null,
        fileCount: 3,
        nested: [{ heatmapUrl: '[redacted]' }],
      },
    });
  });
});
