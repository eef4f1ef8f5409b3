import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { TEST_SECRET, testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { startService } from '../helpers/service-process.js';

const ADMIN_TOKEN = 'an-admin-token-of-24-chars-or-more';

async function start(env: Record<string, string>) {
  const service = await startService({
    ROLE: 'api',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: testPrefix(),
    MORI_WEBHOOK_SECRET: TEST_SECRET,
    ...env,
  });
  onTestFinished(async () => {
    service.child.kill('SIGKILL');
    await service.exited;
  });
  await eventually(() => service.output().includes('mori-webhook-receiver started'), { what: 'the start-up line' });
  return service;
}

describe('start-up logs', () => {
  it('LOG_FORMAT=pretty writes readable lines, and says where the dashboard is without its token', async () => {
    const service = await start({ LOG_FORMAT: 'pretty', ADMIN_TOKEN });
    const text = service.output();
    expect(text).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: dashboard \(Bull Board\) is on; every request needs ADMIN_TOKEN$/m,
    );
    expect(text).toContain(`dashboard: "${service.url}/admin/queues"`);
    expect(text).toMatch(/^\[[\d:.]+\] INFO: mori-webhook-receiver started$/m);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain(ADMIN_TOKEN);
  });

  it('writes JSON when the logs go to a pipe (auto), as in the container', async () => {
    const service = await start({});
    const lines = service
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain('mori-webhook-receiver started');
    expect(lines.map((l) => l.msg)).not.toContain('dashboard (Bull Board) is on; every request needs ADMIN_TOKEN');
  });
});
