import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { deliveries } from '../../src/cli/deliveries.js';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { cliContext } from '../helpers/cli-context.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder } from '../helpers/fake-mori.js';
import { ADMIN_TOKEN, startAdminPipeline, type AdminPipeline } from '../helpers/start-admin-pipeline.js';

const ORDER_ID = '1234567890123456789';
const NAME = '<script>alert("owned")</script>';
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

let p: AdminPipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const page = (url: string) => p!.server.app.inject({ method: 'GET', url, headers: { ...AUTH, accept: 'text/html' } });

/** The hidden per-page token of the replay form. */
const formToken = (body: string) => /name="token" value="([^"]+)"/.exec(body)?.[1];

describe("an order's timeline (issue 16)", () => {
  it('shows each event, duplicate, look-up and attempt, matching what the sink received, escaped and redacted', async () => {
    p = await startAdminPipeline();
    const order = finalOrder(ORDER_ID, 'antiAi', { orderName: NAME });
    p.mori.setOrder(order);
    p.capture.script([{ status: 500 }, { status: 500 }]);
    const event = buildSampleEvent(order, 'current', 'evt-timeline');
    expect(await p.post(event)).toBe(200);
    expect(await p.post(event)).toBe(200);
    expect(await p.post(event)).toBe(200);
    const t = await p.attempts(ORDER_ID, 3);
    await eventually(async () => (await p!.timeline(ORDER_ID))?.duplicates['evt-timeline'] === 2, {
      what: 'two duplicates counted',
    });
    expect(p.capture.requests).toHaveLength(3);

    const attempts = t.entries.filter((e) => e.kind === 'attempt');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', undefined],
    ]);
    expect(attempts[0]!.nextRetryAt).toEqual(expect.any(String));
    expect(attempts[2]!.nextRetryAt).toBeUndefined();
    expect(t.entries[0]).toMatchObject({ kind: 'received', eventId: 'evt-timeline', generation: 'current' });
    expect(t.entries[1]).toMatchObject({ kind: 'lookup', apiVersion: 'v3', outcome: 'final', status: 'complete' });
    expect(t.ledger).toEqual([
      { sink: 'crm', deliveryId: expect.stringMatching(/^dlv_/), deliveredAt: expect.any(String) },
    ]);
    // What the ledger holds is what the sink received last.
    const received = p.capture.requests.map((r) => (r.json as { id: string }).id);
    expect(new Set(received)).toEqual(new Set([t.ledger[0]!.deliveryId]));

    const res = await page(`/admin/orders/${ORDER_ID}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
    expect(res.body).not.toContain(NAME);
    expect(res.body).not.toContain('<script');
    expect(res.body.match(/<tr class="attempt">/g)).toHaveLength(3);
    expect(res.body).toContain('<strong>2</strong> duplicate(s) answered');
    expect(res.body).toContain(`/admin/queues/queue/mori-deliveries/${t.ledger[0]!.deliveryId}-crm`);
    // The envelope is shown, its presigned URLs are not.
    expect(res.body).toContain('class="envelope"');
    expect(res.body).not.toContain('X-Amz-Signature');
    expect(res.body).toContain('[redacted]');
    // Read-only by default: no replay form.
    expect(formToken(res.body)).toBeUndefined();

    const index = await page('/admin/orders');
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain(`href="/admin/orders/${ORDER_ID}"`);
    expect(index.body).toContain('&lt;script&gt;');
    expect(index.body).not.toContain('<script');

    const cli = cliContext([ORDER_ID], p.env);
    expect(await deliveries(cli.ctx)).toBe(0);
    const lines = cli.out.join('\n');
    expect(lines).toContain('crm #1: failed (HTTP 500');
    expect(lines).toContain('crm #2: failed (HTTP 500');
    expect(lines).toContain('crm #3: delivered');
    expect(lines).toContain('2 duplicate(s) answered');
    expect(lines).toMatch(/ledger +crm dlv_\w+: delivered at /);
    const json = cliContext([ORDER_ID, '--json'], p.env);
    expect(await deliveries(json.ctx)).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toEqual(JSON.parse(JSON.stringify(await p.timeline(ORDER_ID))));
  });

  it('answers an unknown order with 404 and a malformed id with 400, as pages, and the CLI says so too', async () => {
    p = await startAdminPipeline();
    const unknown = await page('/admin/orders/999');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('Nothing is known of order 999');
    const invalid = await page(`/admin/orders/${encodeURIComponent('<b>x</b>')}`);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.headers['content-type']).toMatch(/^text\/html/);
    expect(invalid.body).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(invalid.body).not.toMatch(/at .*\.ts:\d+/);
    expect((await page('/admin/orders?q=not%20an%20id')).statusCode).toBe(400);
    const search = await page('/admin/orders?q=%20999%20');
    expect(search.statusCode).toBe(303);
    expect(search.headers.location).toBe('/admin/orders/999');

    const cli = cliContext(['999'], p.env);
    expect(await deliveries(cli.ctx)).toBe(1);
    expect(cli.err.join('\n')).toContain('no history for order 999');
    await expect(deliveries(cliContext(['a/b'], p.env).ctx)).rejects.toThrow('is not an order id');
    await expect(deliveries(cliContext([], p.env).ctx)).rejects.toThrow('the order id is missing');
  });

  it('writes nothing to Redis while the read-only pages are read, and has no replay route', async () => {
    p = await startAdminPipeline();
    const order = finalOrder(ORDER_ID);
    p.mori.setOrder(order);
    expect(await p.post(buildSampleEvent(order, 'current', 'evt-ro'))).toBe(200);
    await p.attempts(ORDER_ID, 1);
    // The worker is done with this order; watch every command while the pages are read.
    await p.stopWorker();
    const monitor = await new Redis(inject('redisUrl')).monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.includes(p!.env.REDIS_PREFIX!))) commands.push(args[0]!.toLowerCase());
    });
    try {
      expect((await page('/admin/orders')).statusCode).toBe(200);
      expect((await page(`/admin/orders/${ORDER_ID}`)).statusCode).toBe(200);
      expect((await page('/admin/orders/42')).statusCode).toBe(404);
      const post = await p.server.app.inject({
        method: 'POST',
        url: `/admin/orders/${ORDER_ID}/replay`,
        headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=x',
      });
      expect(post.statusCode).toBe(404);
      await eventually(() => commands.includes('lrange'), { what: 'the monitor to see the page reads' });
    } finally {
      monitor.disconnect();
    }
    const writes = commands.filter((c) => !['lrange', 'hgetall', 'get', 'mget', 'zrevrange'].includes(c));
    expect(writes).toEqual([]);
  });

  describe('with ADMIN_READ_ONLY=false', () => {
    it("refuses a cross-site replay and replays the order's dead letters from its own page", async () => {
      p = await startAdminPipeline({ ADMIN_READ_ONLY: 'false' });
      const order = finalOrder(ORDER_ID);
      // MORI does not know the order yet: the look-up's 404 dead-letters the event at once.
      expect(await p.post(buildSampleEvent(order, 'current', 'evt-dead'))).toBe(200);
      await eventually(async () => (await p!.server.queue.getFailedCount()) === 1, { what: 'a dead letter' });

      const res = await page(`/admin/orders/${ORDER_ID}`);
      expect(res.body).toContain('MORI look-up');
      expect(res.body).toContain('HTTP 404');
      const token = formToken(res.body);
      expect(token).toEqual(expect.any(String));
      const replay = (headers: Record<string, string>, payload = `token=${encodeURIComponent(token!)}`) =>
        p!.server.app.inject({
          method: 'POST',
          url: `/admin/orders/${ORDER_ID}/replay`,
          headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          payload,
        });

      const crossSite = await replay({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
      expect(crossSite.statusCode).toBe(403);
      expect(crossSite.body).toContain('Sec-Fetch-Site is cross-site');
      expect((await replay({ origin: 'https://evil.example' })).statusCode).toBe(403);
      expect((await replay({ 'sec-fetch-site': 'same-origin' }, 'token=forged')).statusCode).toBe(403);
      expect(await p.server.queue.getFailedCount()).toBe(1);

      p.mori.setOrder(order);
      const ok = await replay({ 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80' });
      expect(ok.statusCode).toBe(303);
      expect(ok.headers.location).toBe(`/admin/orders/${ORDER_ID}?replayed=1`);
      const t = await p.attempts(ORDER_ID, 1);
      expect(t.entries.filter((e) => e.kind === 'attempt').map((e) => e.outcome)).toEqual(['delivered']);
      expect(p.capture.requests).toHaveLength(1);
      expect((await page(`/admin/orders/${ORDER_ID}?replayed=1`)).body).toContain('1 dead-lettered job(s) put back');
    });
  });
});
