import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { LOCAL_REDIS_URL } from '../../src/config.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import getPort from 'get-port';
import { answersPing } from '../helpers/redis-server.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';

const run = promisify(execFile);

const localRedisAnswers = () => answersPing(LOCAL_REDIS_URL);

/** The commands of the README's "See it work without a MORI account", in order, continuations joined. */
function demoCommands(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('### See it work without a MORI account'),
    readme.indexOf('With Docker:'),
  );
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** `A=1 B=2 prog args...` as the shell reads it (no quoting: the README's commands need none). */
function parseCommand(line: string): { env: Record<string, string>; argv: string[] } {
  const words = line.split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_]+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  return { env, argv: words };
}

/** Stops whatever redis-server answers on the embedded port: the one a killed service left behind. */
async function stopLocalRedis(): Promise<void> {
  if (!(await localRedisAnswers())) return;
  const client = new Redis(LOCAL_REDIS_URL, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  client.disconnect();
}

/** The README's "See it work without a MORI account", command by command, as a newcomer runs it. */
describe('the README quick start', () => {
  // As written means the worker's real 5 s wait before its second look-up, on a loaded machine too.
  it(
    'runs the demo as written, with the embedded Redis: the simulator shows the look-ups, the order lands in data/orders.jsonl, status and /metrics show it',
    { timeout: 90_000 },
    async () => {
      const cli = join(dirname(inject('builtMain')), 'cli/main.js');
      const cwd = mkdtempSync(join(tmpdir(), 'quick-start-'));
      const moriPort = await getPort();
      const prefix = testPrefix();
      expect(
        await localRedisAnswers(),
        'something already answers on the embedded Redis port 6390; stop it to run this test',
      ).toBe(false);
      const running: { mock?: ChildProcess; service?: ServiceProcess } = {};
      // Even when an assertion fails: a SIGKILLed service cannot stop its embedded redis-server itself.
      onTestFinished(async () => {
        running.mock?.kill('SIGTERM');
        running.service?.child.kill('SIGKILL');
        await running.service?.exited;
        await stopLocalRedis();
        rmSync(cwd, { recursive: true, force: true });
      });

      const commands = demoCommands();
      expect(commands.map((c) => parseCommand(c).argv.slice(0, 3).join(' '))).toEqual([
        'node dist/cli/main.js mock-mori',
        'npm start',
        'node dist/cli/main.js send-test-event',
        'cat data/orders.jsonl',
        'node dist/cli/main.js status',
        'curl -s 127.0.0.1:8080/metrics',
      ]);
      const [simulator, start, send, cat, statusLine, curl] = commands.map(parseCommand) as [
        ReturnType<typeof parseCommand>,
        ...ReturnType<typeof parseCommand>[],
      ];
      // The README's fixed ports become free ones; everything else runs as written.
      const withPorts = (text: string, port: string) =>
        text.replaceAll('4010', String(moriPort)).replaceAll('8080', port);
      const cliArgs = (argv: string[]) => argv.slice(2).map((a) => withPorts(a, ''));

      // 1. the simulator
      let simulated = '';
      const mock = spawn(process.execPath, [cli, ...cliArgs(simulator.argv)], { stdio: ['ignore', 'pipe', 'inherit'] });
      running.mock = mock;
      mock.stdout.on('data', (c) => (simulated += c));
      await eventually(() => simulated.includes('mock MORI listening'), { what: 'the simulator to listen' });

      // 2. the service (no REDIS_URL: it starts its own redis-server)
      const env = Object.fromEntries(Object.entries(start!.env).map(([k, v]) => [k, withPorts(v, '')]));
      const service = await startService({ ...env, REDIS_PREFIX: prefix }, inject('builtMain'), cwd);
      running.service = service;
      // Log lines are written in batches, at most 250 ms late (src/logger.ts).
      await eventually(() => service.output().includes('started a local redis-server'), { what: 'the start-up line' });
      const port = new URL(service.url).port;

      // 3. the signed test event
      const sent = await run(process.execPath, [cli, ...cliArgs(send!.argv)], {
        env: { ...process.env, ...send!.env, PORT: port },
      });
      expect(sent.stdout).toMatch(/→ 200 .*"duplicate":false/);
      const orderId = String((JSON.parse(sent.stdout.split('\n')[1]!) as { data: { orderId: string } }).data.orderId);

      // The simulator shows the worker at work: in progress at the first look-up, complete at the next.
      const lookup = (state: string) => `GET /api/v3/orders/${orderId} → 200 (aiDetection ${state})`;
      await eventually(() => simulated.includes(lookup('complete')), { timeoutMs: 20_000, what: 'the second look-up' });
      expect(simulated.indexOf(lookup('inProgress'))).toBeGreaterThan(-1);
      expect(simulated.indexOf(lookup('inProgress'))).toBeLessThan(simulated.indexOf(lookup('complete')));

      // 4. cat data/orders.jsonl: the order is there once the second look-up is answered
      const file = join(cwd, cat!.argv[1]!);
      await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim().length > 0, {
        what: 'the order in data/orders.jsonl',
      });
      const [line, ...rest] = readFileSync(file, 'utf8').trim().split('\n');
      expect(rest).toEqual([]);
      expect(JSON.parse(line!)).toMatchObject({
        type: 'order.aiDetection.completed',
        data: { order: { orderId, type: 'aiDetection', status: 'complete' } },
      });

      // 5. status, on the embedded Redis (REDIS_URL unset)
      const status = await run(process.execPath, [cli, ...cliArgs(statusLine!.argv)], {
        env: { ...process.env, REDIS_PREFIX: prefix, REDIS_URL: '' },
      });
      expect(status.stdout).toMatch(/^mori-deliveries\s+0\s+0\s+0\s+0\s+0\s+1\s+-$/m);

      // 6. curl … /metrics | grep mori_sink_deliveries_total
      const [url, , grep] = [withPorts(curl!.argv[2]!, port), curl!.argv[3], curl!.argv[4]];
      expect(grep).toBe('grep');
      const metrics = await (await fetch(`http://${url}`)).text();
      expect(metrics.split('\n').filter((l) => l.includes(curl!.argv[5]!))).toContain(
        'mori_sink_deliveries_total{sink="orders-file",outcome="delivered"} 1',
      );

      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      // The embedded Redis stopped with the service, and kept its AOF under data/redis.
      expect(await localRedisAnswers()).toBe(false);
      expect(existsSync(join(cwd, 'data/redis/appendonlydir'))).toBe(true);
    },
  );

  it('without REDIS_URL or redis-server, stops with a message naming the three ways to get Redis', async () => {
    expect(
      await localRedisAnswers(),
      'something already answers on the embedded Redis port 6390; stop it to run this test',
    ).toBe(false);
    const cwd = mkdtempSync(join(tmpdir(), 'no-redis-'));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
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
