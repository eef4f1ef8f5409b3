import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { recover } from '../../src/cli/recover.js';
import { webhooks } from '../../src/cli/webhooks.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { startCaptureServer } from '../helpers/capture-server.js';
import { cliContext } from '../helpers/cli-context.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeMori } from '../helpers/fake-mori.js';

const ORDERS = 60;
const DAY_MS = 86_400_000;

describe('recover and webhooks', () => {
  it('asks MORI to resend every FAILED event in 7-day, 50-event steps, then sweeps; a second run delivers nothing twice', async () => {
    // The "receiver" refuses everything until it is fixed: every event ends FAILED at MORI.
    const receiver = await startCaptureServer();
    onTestFinished(() => receiver.close());
    receiver.script(Array.from({ length: ORDERS * 3 }, () => ({ status: 500 })));
    const calls: string[] = [];
    const mori = await startFakeMori({ token: 'sk_test_rec', retryDelaysMs: [5, 5], log: (l) => calls.push(l) });
    const prefix = testPrefix();
    onTestFinished(() => deleteKeysWithPrefix(inject('redisUrl'), prefix));
    const env = {
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'sk_test_rec',
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
    };

    const created = cliContext(['create', '--url', receiver.url], env);
    expect(await webhooks(created.ctx)).toBe(0);
    expect(created.out[0]).toMatch(/^registered webhook 1 → .* \(test events only\)$/);
    for (let i = 0; i < ORDERS; i++) mori.createOrder('antiAi');
    await eventually(() => receiver.requests.length === ORDERS * 3, { what: 'MORI giving up on every event' });

    const failed = cliContext(['events', '1', '--status', 'FAILED'], env);
    await eventually(
      async () => (await webhooks(failed.ctx), failed.out.at(-1) === `${ORDERS} event(s) in status FAILED`),
      {
        what: 'the delivery log to show every event FAILED',
      },
    );
    const listed = cliContext(['list'], env);
    expect(await webhooks(listed.ctx)).toBe(0);
    expect(listed.out[0]).toMatch(/^1\tactive\ttest\tlast sent 20\d\d-/);

    // The receiver is fixed; recover the last 20 days.
    const since = new Date(Date.now() - 20 * DAY_MS).toISOString();
    const first = cliContext(['--since', since], env);
    expect(await recover(first.ctx)).toBe(0);
    expect(receiver.requests).toHaveLength(ORDERS * 4);
    expect(new Set(receiver.requests.slice(ORDERS * 3).map((r) => (r.json as { eventId: string }).eventId)).size).toBe(
      ORDERS,
    );
    const resends = calls.filter((l) => /^POST \/api\/v2\/orders\/webhooks\/\d+\/events\/retry-failed → 200/.test(l));
    // Four 7-day windows back to 21 days ago; the one holding today's 60 events takes two calls (50, then 10).
    expect(resends).toHaveLength(5);
    expect(resends.filter((l) => l.includes(`${ORDERS} failed, resent 50`))).toHaveLength(1);
    expect(first.out).toContain(`MORI resent ${ORDERS} event(s) in 5 call(s); 0 failed again (is the receiver up?)`);
    expect(first.out.at(-1)).toMatch(
      new RegExp(`: ${ORDERS} final order\\(s\\) had not reached the sinks and are queued now$`),
    );

    const second = cliContext(['--since', since], env);
    expect(await recover(second.ctx)).toBe(0);
    expect(receiver.requests).toHaveLength(ORDERS * 4);
    expect(second.out).toContain('MORI resent 0 event(s) in 4 call(s); 0 failed again (is the receiver up?)');
    expect(second.out.at(-1)).toMatch(/: 0 final order\(s\) had not reached the sinks/);

    const removed = cliContext(['delete', '1'], env);
    expect(await webhooks(removed.ctx)).toBe(0);
    const none = cliContext(['list'], env);
    await webhooks(none.ctx);
    expect(none.out).toEqual(['no webhooks registered']);
  });
});
