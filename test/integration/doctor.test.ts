import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { doctor } from '../../src/cli/doctor.js';
import { closeRedis, createRedis } from '../../src/redis.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { cliContext } from '../helpers/cli-context.js';
import { startFakeMori } from '../helpers/fake-mori.js';
import { startTestRedis } from '../helpers/redis-server.js';

const HOOK_URL = 'https://hooks.example.com/webhooks/mori';

async function runDoctor(args: string[], env: Record<string, string>) {
  const { ctx, out } = cliContext(args, env);
  const code = await doctor(ctx);
  return { code, out, text: out.join('\n') };
}

describe('doctor', () => {
  it('passes on a healthy set-up, spending exactly one MORI call', async () => {
    // A Redis as production wants it: AOF on, noeviction (the launcher's persistent mode).
    const redis = await startTestRedis({ persistent: true });
    onTestFinished(() => redis.close());
    const mori = await startFakeMori({
      token: 'tok',
      webhooks: [{ url: HOOK_URL, secret: 'whsec_demo_secret' }],
    });

    const { code, out, text } = await runDoctor(['--url', HOOK_URL], {
      REDIS_URL: redis.url,
      REDIS_PREFIX: testPrefix(),
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'tok',
      MORI_WEBHOOK_SECRET: 'whsec_demo_secret',
    });
    expect(text).not.toContain('✗');
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^✓ configuration: ROLE=all, listening on 127\.0\.0\.1:8080, sinks file:orders-file$/);
    expect(text).toMatch(/^✓ Redis at redis:\/\/127\.0\.0\.1:\d+: reachable, role master$/m);
    expect(text).toContain('✓ Redis maxmemory-policy noeviction');
    expect(text).toContain('✓ Redis persistence: AOF on');
    expect(text).toContain(`✓ MORI token accepted (one call: GET ${mori.url}/api/v2/orders/webhooks)`);
    expect(text).toMatch(new RegExp(`^✓ webhook 1 ${HOOK_URL}: active, MORI has not sent to it yet$`, 'm'));
    expect(text).toMatch(/^✓ clock: \d+\.\d s (ahead of|behind) MORI's$/m);
    expect(out.at(-1)).toBe('all checks passed');
    expect(mori.stats.requests).toBe(1);
  });

  it('names every problem of a broken set-up with what to fix, and exits 1', async () => {
    // A Redis that may evict queued jobs, without persistence.
    const redis = await startTestRedis();
    onTestFinished(() => redis.close());
    const admin = createRedis(redis.url, 'plain');
    onTestFinished(() => closeRedis(admin));
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'save', '');
    const mori = await startFakeMori({ token: 'tok' });

    const { code, text } = await runDoctor([], {
      PORT: 'http',
      REDIS_URL: redis.url,
      REDIS_PREFIX: testPrefix(),
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'wrong-token',
    });
    expect(code).toBe(1);
    expect(text).toMatch(/^✗ configuration: PORT: /m);
    expect(text).toMatch(/^✗ configuration: MORI_WEBHOOK_SECRET: required/m);
    expect(text).toContain('✗ Redis maxmemory-policy is allkeys-lru: Redis may evict queued jobs when full');
    expect(text).toContain('    fix: set maxmemory-policy noeviction');
    expect(text).toContain('✗ Redis persistence: off (no AOF, no RDB snapshots)');
    expect(text).toMatch(/^✗ MORI token refused \(one call: GET .*\/api\/v2\/orders\/webhooks\): MORI answered 401/m);
    expect(text).not.toContain('wrong-token');
    expect(text).toMatch(/\d check\(s\) failed$/);
  });

  it("fails a clock far from MORI's and a webhook that is not registered", async () => {
    const mori = await startFakeMori({ token: 'tok', clockSkewMs: 120_000 });
    const { code, text } = await runDoctor(['--url', HOOK_URL], {
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: testPrefix(),
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'tok',
      MORI_WEBHOOK_SECRET: 'whsec_demo_secret',
    });
    expect(code).toBe(1);
    expect(text).toMatch(/^✗ clock: 1[12]\d\.\d s behind MORI's\n {4}fix: synchronise this host with NTP/m);
    expect(text).toContain(`✗ no active webhook at MORI for ${HOOK_URL}`);
    expect(text).toContain(`fix: register it: mori-webhook webhooks create --url ${HOOK_URL}`);
    expect(mori.stats.requests).toBe(1);
  });

  it('checks no Redis and no MORI whose address is invalid (rather than the defaults)', async () => {
    const { code, text } = await runDoctor([], {
      REDIS_URL: 'http://not-redis',
      MORI_API_BASE_URL: 'ftp://mori',
      MORI_API_TOKEN: 'tok',
      MORI_WEBHOOK_SECRET: 'whsec_demo_secret',
    });
    expect(code).toBe(1);
    expect(text).toMatch(
      /^✗ configuration: REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL \(got "\[redacted\]"\)$/m,
    );
    expect(text).toContain('✗ Redis: not checked (REDIS_URL is invalid)');
    expect(text).toContain('✗ MORI: not checked (MORI_API_BASE_URL invalid)');
  });

  it('with --offline, makes no MORI call and says so; an unreachable Redis fails', async () => {
    const mori = await startFakeMori({ token: 'tok' });
    const { code, text } = await runDoctor(['--offline'], {
      REDIS_URL: 'redis://127.0.0.1:1',
      MORI_API_BASE_URL: mori.url,
      MORI_API_TOKEN: 'tok',
      MORI_WEBHOOK_SECRET: 'whsec_demo_secret',
    });
    expect(code).toBe(1);
    expect(text).toMatch(/^✗ Redis: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/m);
    expect(text).toContain('! MORI: not checked (--offline)');
    expect(mori.stats.requests).toBe(0);
  });
});
