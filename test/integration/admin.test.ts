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

    it('rate-limits wrong guesses per client', async () => {
      server = await buildTestServer({ ADMIN_TOKEN: TOKEN });
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await get('/admin/queues', `Bearer guess-${i}`)).statusCode);
      expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(codes.slice(10)).toEqual([429, 429]);
      expect((await get('/admin/queues', `Bearer ${TOKEN}`)).statusCode).toBe(200);
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
