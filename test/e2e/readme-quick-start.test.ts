import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { LOCAL_REDIS_URL } from '../../src/config.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import getPort from 'get-port';
import { answersPing } from '../helpers/redis-server.js';
import { startService } from '../helpers/service-process.js';

const run = promisify(execFile);

const localRedisAnswers = () => answersPing(LOCAL_REDIS_URL);

/** The README's "See it work without a MORI account", step by step, as a newcomer runs it. */
describe('the README quick start', () => {
  it('runs with the embedded Redis: mock-mori and send-test-event put one order in data/orders.jsonl; status and /metrics show it', async () => {
    const cli = join(dirname(inject('builtMain')), 'cli/main.js');
    const cwd = mkdtempSync(join(tmpdir(), 'quick-start-'));
    const moriPort = await getPort();
    const prefix = testPrefix();
    expect(
      await localRedisAnswers(),
      'something already answers on the embedded Redis port 6390; stop it to run this test',
    ).toBe(false);

    // 1. node dist/cli/main.js mock-mori --port 4010 --token demo-token
    const mock = spawn(
      process.execPath,
      [cli, 'mock-mori', '--port', String(moriPort), '--token', 'demo-token', '--finish-after', '1'],
      { stdio: 'ignore' },
    );
    onTestFinished(() => void mock.kill('SIGTERM'));

    // 2. MORI_API_BASE_URL=… MORI_API_TOKEN=demo-token MORI_WEBHOOK_SECRET=whsec_demo_secret npm start  (no REDIS_URL)
    const env = {
      MORI_API_BASE_URL: `http://127.0.0.1:${moriPort}`,
      MORI_API_TOKEN: 'demo-token',
      MORI_WEBHOOK_SECRET: 'whsec_demo_secret',
      REDIS_PREFIX: prefix,
    };
    const service = await startService({ ...env, ORDER_PENDING_BASE_MS: '200' }, inject('builtMain'), cwd);
    onTestFinished(() => void service.child.kill('SIGKILL'));
    expect(service.output()).toContain('started a local redis-server');

    // 3. send-test-event, then the file, status and /metrics
    const port = new URL(service.url).port;
    const sent = await run(process.execPath, [cli, 'send-test-event', '--type', 'aiDetection'], {
      env: { ...process.env, ...env, PORT: port },
    });
    expect(sent.stdout).toMatch(/→ 200 .*"duplicate":false/);

    const file = join(cwd, 'data/orders.jsonl');
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim().length > 0, {
      timeoutMs: 20_000,
      what: 'the order in data/orders.jsonl',
    });
    const [line, ...rest] = readFileSync(file, 'utf8').trim().split('\n');
    expect(rest).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({
      type: 'order.aiDetection.completed',
      data: { order: { type: 'aiDetection', status: 'complete' } },
    });

    const status = await run(process.execPath, [cli, 'status', '--json'], {
      env: { ...process.env, ...env, REDIS_URL: '' },
    });
    expect(JSON.parse(status.stdout).queues['mori-deliveries'].completed).toBe(1);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('mori_sink_deliveries_total{sink="orders-file",outcome="delivered"} 1');

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    // The embedded Redis stopped with the service, and kept its AOF under data/redis.
    expect(await localRedisAnswers()).toBe(false);
    expect(existsSync(join(cwd, 'data/redis/appendonlydir'))).toBe(true);
  });

  it('without REDIS_URL or redis-server, stops with a message naming the three ways to get Redis', async () => {
    expect(
      await localRedisAnswers(),
      'something already answers on the embedded Redis port 6390; stop it to run this test',
    ).toBe(false);
    const cwd = mkdtempSync(join(tmpdir(), 'no-redis-'));
    const result = await run(process.execPath, [inject('builtMain')], {
      cwd,
      env: { PATH: '/nonexistent', MORI_WEBHOOK_SECRET: 'whsec_demo_secret', MORI_API_TOKEN: 't' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('docker compose up');
    expect(result.stderr).toContain('apt-get install redis-server');
    expect(result.stderr).toContain('REDIS_URL=');
  });

  it('with a bad configuration, stops with one message naming every problem', async () => {
    const result = await run(process.execPath, [inject('builtMain')], {
      env: { PATH: '/nonexistent', PORT: 'http', ROLE: 'both' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Invalid configuration:\n/);
    for (const name of ['ROLE', 'PORT']) expect(result.stderr).toContain(`  - ${name}:`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
