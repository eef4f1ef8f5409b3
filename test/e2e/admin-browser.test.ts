import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Response } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { finalOrder } from '../helpers/fake-mori.js';
import { ADMIN_TOKEN, startAdminPipeline, type AdminPipeline } from '../helpers/start-admin-pipeline.js';

/** Debian's Chromium, installed by .ci/run; playwright-core never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots kept as test artefacts (gitignored). */
const ARTEFACTS = join(import.meta.dirname, '../../test-artifacts');

const ORDER_ID = '1234567890123456789';
const NAME = '<script>alert("owned")</script>';

let pipeline: AdminPipeline | undefined;
const contexts: { context: BrowserContext; dir: string }[] = [];
afterEach(async () => {
  for (const { context, dir } of contexts.splice(0)) {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await pipeline?.close();
  pipeline = undefined;
});

/** A fresh browser profile that answers the Basic-auth prompt with `password`, as a person would. */
async function browser(password: string, viewport = { width: 1100, height: 900 }): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    httpCredentials: { username: 'ops', password },
    viewport,
  });
  contexts.push({ context, dir });
  return context;
}

async function listening(p: AdminPipeline): Promise<string> {
  return p.server.app.listen({ port: 0, host: '127.0.0.1' });
}

describe('the admin pages in a real browser (issue 16)', () => {
  it('logs in through the Basic-auth prompt and opens a deep link three times within a minute', async () => {
    pipeline = await startAdminPipeline();
    const base = await listening(pipeline);
    // What reaches the server: a browser asks for each new path once without credentials first.
    let unauthenticated = 0;
    pipeline.server.app.server.on('request', (req: { headers: { authorization?: string } }) => {
      if (!req.headers.authorization) unauthenticated++;
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A fresh profile each time (a new browser, a colleague): every challenge comes again.
      const context = await browser(ADMIN_TOKEN);
      context.on('response', (r: Response) => statuses.push(r.status()));
      const page = await context.newPage();
      const res = await page.goto(`${base}/admin/queues/queue/mori-deliveries?status=completed`);
      expect(res?.status()).toBe(200);
      // Bull Board's own scripts ran (they were not refused): the queue list is on the page.
      await page.getByText('mori-events').first().waitFor();
    }
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    // More first tries without credentials than the 10 failed logins a minute allowed.
    expect(unauthenticated).toBeGreaterThan(10);
  });

  it('locks out eleven wrong passwords with Retry-After while the right one still works', async () => {
    pipeline = await startAdminPipeline();
    const base = await listening(pipeline);
    const guesser = await browser('not-the-token');
    const page = await guesser.newPage();
    const codes: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 11; i++) {
      last = await page.goto(`${base}/admin/orders?try=${i}`);
      codes.push(last!.status());
    }
    expect(codes).toEqual([...Array(10).fill(401), 429]);
    expect(Number(last!.headers()['retry-after'])).toBeGreaterThan(0);
    await expect(page.locator('h1').textContent()).resolves.toBe('Too many wrong passwords');
    await expect(page.locator('body').textContent()).resolves.toContain(
      `Try again in ${last!.headers()['retry-after']} s`,
    );

    const owner = await (await browser(ADMIN_TOKEN)).newPage();
    const res = await owner.goto(`${base}/admin/orders`);
    expect(res?.status()).toBe(200);
    await expect(owner.locator('h1').textContent()).resolves.toBe('Orders');
  });

  it('shows the timeline of an order that failed twice at a sink and then succeeded', async () => {
    pipeline = await startAdminPipeline();
    const p = pipeline;
    const order = finalOrder(ORDER_ID, 'antiAi', { orderName: NAME });
    p.mori.setOrder(order);
    p.capture.script([{ status: 500 }, { status: 500 }]);
    expect(await p.post(buildSampleEvent(order, 'current', 'evt-browser'))).toBe(200);
    await p.attempts(ORDER_ID, 3);
    const base = await listening(p);

    const context = await browser(ADMIN_TOKEN);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const index = await page.goto(`${base}/admin/orders`);
    expect(index?.status()).toBe(200);
    await page.getByRole('searchbox').fill(ORDER_ID);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(`${base}/admin/orders/${ORDER_ID}`);

    // The customer's order name is text on the page, never markup.
    await expect(page.locator('h1 .name').textContent()).resolves.toBe(NAME);
    expect(dialogs).toEqual([]);

    const rows = await page
      .locator('tr.attempt')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['1', 'failed', '500'],
      ['2', 'failed', '500'],
      ['3', 'delivered', '-'],
    ]);
    // As many attempts as the sink received, all of the one state the ledger now holds.
    expect(p.capture.requests).toHaveLength(rows.length);
    const ledger = await page.locator('li.ledger').textContent();
    const deliveryId = /dlv_\w+/.exec(ledger ?? '')?.[0];
    expect(ledger).toContain('delivered at');
    expect(new Set(p.capture.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([deliveryId]));
    await expect(page.locator('pre.envelope').textContent()).resolves.not.toContain('X-Amz-Signature');

    mkdirSync(ARTEFACTS, { recursive: true });
    const shot = join(ARTEFACTS, 'order-timeline.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    // Readable on a phone: nothing wider than the screen but the tables, which scroll by themselves.
    const phone = await (await browser(ADMIN_TOKEN, { width: 390, height: 844 })).newPage();
    await phone.goto(`${base}/admin/orders/${ORDER_ID}`);
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
