import { parseArgs } from 'node:util';
import { RedisConnection } from 'bullmq';
import { ConfigError, LOCAL_REDIS_URL, loadConfig, readVariables, type Env } from '../config.js';
import { createMoriClient, MoriApiError } from '../mori/mori-client.js';
import { createWebhooksApi, type Webhook } from '../mori/webhooks-api.js';
import type { Redis } from '../redis.js';
import { describeRedisTarget, redisTargetOf } from '../redis-target.js';
import type { CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const DOCTOR_HELP = `doctor [--offline] [--url URL]
  Checks what the service will use and says what to fix: the configuration (every problem), the
  Redis (reachable, master, version, maxmemory-policy noeviction, persistence), and, unless
  --offline, MORI with ONE call (GET /api/v2/orders/webhooks, from the plan's budget): the token,
  the registered webhooks and when MORI last sent to them (--url: the one that must be there), and
  the clock's skew from MORI's Date header. Exits 1 when a check fails.`;

type Mark = '✓' | '✗' | '!';

interface Check {
  mark: Mark;
  what: string;
  fix?: string;
}

const ok = (what: string): Check => ({ mark: '✓', what });
const fail = (what: string, fix: string): Check => ({ mark: '✗', what, fix });
/** Worth knowing, not a failure. */
const warn = (what: string, fix: string): Check => ({ mark: '!', what, fix });

/**
 * Beyond this, a clock is not kept by NTP (which holds it within milliseconds). Receivers of the
 * http sink check its signed `webhook-timestamp` against their own clock (Standard Webhooks:
 * 5 minutes' tolerance in its libraries), and the reconciler compares MORI's times with ours.
 */
const CLOCK_SKEW_LIMIT_MS = 30_000;

/** `INFO <section>` as name → value. */
async function info(redis: Redis, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** a < b for dotted versions. */
function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((x![i] ?? 0) !== (y![i] ?? 0)) return (x![i] ?? 0) < (y![i] ?? 0);
  return false;
}

function checkConfig(source: NodeJS.ProcessEnv): Check[] {
  try {
    const c = loadConfig(source);
    const sinks = c.sinks.map((s) => `${s.type}:${s.name}`).join(', ');
    return [ok(`configuration: ROLE=${c.ROLE}, listening on ${c.HOST}:${c.PORT}, sinks ${sinks}`)];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => fail(`configuration: ${p}`, 'set it in the environment or .env (.env.example)'));
  }
}

async function checkRedis(env: Env): Promise<Check[]> {
  const target = redisTargetOf(env, []) ?? { mode: 'single', url: LOCAL_REDIS_URL };
  // In a cluster, INFO and CONFIG reach one node: the check speaks for that node only.
  const url = `${describeRedisTarget(target)}${target.mode === 'cluster' ? ' (one node of it)' : ''}`;
  let queues: Awaited<ReturnType<typeof openQueues>>;
  try {
    queues = await openQueues(env);
  } catch (err) {
    return [fail(`Redis: ${(err as Error).message}`, 'start Redis, or fix REDIS_URL')];
  }
  try {
    const [server, replication, memory, persistence] = await Promise.all(
      ['server', 'replication', 'memory', 'persistence'].map((s) => info(queues.redis, s)),
    );
    const checks: Check[] = [];
    const version = server!.get('redis_version') ?? '?';
    const role = replication!.get('role') ?? '?';
    checks.push(
      role === 'master'
        ? ok(`Redis at ${url}: reachable, role master`)
        : fail(`Redis at ${url}: role ${role}`, 'a replica refuses writes: point REDIS_URL at the master'),
    );
    if (olderThan(version, RedisConnection.minimumVersion))
      checks.push(fail(`Redis ${version}: BullMQ needs ${RedisConnection.minimumVersion} or newer`, 'upgrade Redis'));
    else if (olderThan(version, RedisConnection.recommendedMinimumVersion))
      checks.push(warn(`Redis ${version}`, `BullMQ recommends ${RedisConnection.recommendedMinimumVersion} or newer`));
    else checks.push(ok(`Redis ${version}`));
    // BullMQ's requirement: with any other policy Redis may evict a queue's keys, i.e. lose jobs.
    const policy = memory!.get('maxmemory_policy') ?? '?';
    checks.push(
      policy === 'noeviction'
        ? ok('Redis maxmemory-policy noeviction')
        : fail(
            `Redis maxmemory-policy is ${policy}: Redis may evict queued jobs when full`,
            'set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)',
          ),
    );
    const aof = persistence!.get('aof_enabled') === '1';
    const save = aof ? '' : ((await queues.redis.config('GET', 'save').catch(() => [])) as string[])[1];
    if (aof) checks.push(ok('Redis persistence: AOF on'));
    else if (save)
      checks.push(
        warn(
          `Redis persistence: RDB snapshots only (save ${save})`,
          'a crash loses the writes since the last snapshot: set appendonly yes, appendfsync everysec',
        ),
      );
    else
      checks.push(
        fail(
          'Redis persistence: off (no AOF, no RDB snapshots)',
          'a restart loses every queued event: set appendonly yes, appendfsync everysec',
        ),
      );
    return checks;
  } finally {
    await queues.close();
  }
}

function describeWebhook(hook: Webhook, now: number): string {
  const state = hook.isActive === false ? 'inactive' : 'active';
  const sent = hook.lastSentAt
    ? `MORI last sent to it at ${hook.lastSentAt} (${Math.round((now - Date.parse(hook.lastSentAt)) / 60_000)} min ago)`
    : 'MORI has not sent to it yet';
  return `webhook ${hook.id} ${hook.url}${hook.isTest ? ' (test)' : ''}: ${state}, ${sent}`;
}

async function checkMori(env: Env, wantedUrl: string | undefined): Promise<Check[]> {
  if (!env.MORI_API_TOKEN) return [fail('MORI: MORI_API_TOKEN is not set', 'set MORI_API_TOKEN, or pass --offline')];
  const mori = createMoriClient({
    baseUrl: env.MORI_API_BASE_URL,
    token: env.MORI_API_TOKEN,
    timeoutMs: env.MORI_TIMEOUT_MS,
  });
  const call = `one call: GET ${env.MORI_API_BASE_URL}/api/v2/orders/webhooks`;
  const checks: Check[] = [];
  try {
    const sentAt = Date.now();
    let answer: Awaited<ReturnType<ReturnType<typeof createWebhooksApi>['listWithClock']>>;
    try {
      answer = await createWebhooksApi(mori).listWithClock();
    } catch (err) {
      if (err instanceof MoriApiError && err.kind === 'auth')
        return [fail(`MORI token refused (${call}): ${err.message}`, 'set MORI_API_TOKEN to a key from MORI')];
      return [fail(`MORI (${call}): ${(err as Error).message}`, 'check MORI_API_BASE_URL and the network')];
    }
    const now = Date.now();
    checks.push(ok(`MORI token accepted (${call})`));

    const { webhooks } = answer;
    for (const hook of webhooks) {
      const line = describeWebhook(hook, now);
      checks.push(hook.isActive === false ? warn(line, 'MORI does not send to an inactive webhook') : ok(line));
    }
    const register = `register it: mori-webhook webhooks create --url ${wantedUrl ?? 'https://your.host/webhooks/mori'}`;
    if (wantedUrl !== undefined && !webhooks.some((h) => h.url === wantedUrl && h.isActive !== false))
      checks.push(fail(`no active webhook at MORI for ${wantedUrl}`, register));
    else if (webhooks.length === 0) checks.push(fail('no webhook registered at MORI: no event will arrive', register));

    // MORI's Date header has whole seconds: the skew is known to within a second plus the round trip.
    const moriTime = answer.moriDate ? Date.parse(answer.moriDate) : Number.NaN;
    if (Number.isNaN(moriTime)) {
      checks.push(warn('clock: MORI sent no Date header to compare with', 'check this host runs NTP'));
    } else {
      const skew = (sentAt + now) / 2 - (moriTime + 500);
      const seconds = `${Math.abs(skew / 1000).toFixed(1)} s ${skew > 0 ? 'ahead of' : 'behind'} MORI's`;
      checks.push(
        Math.abs(skew) <= CLOCK_SKEW_LIMIT_MS
          ? ok(`clock: ${seconds}`)
          : fail(`clock: ${seconds}`, 'synchronise this host with NTP (timedatectl set-ntp true, chrony)'),
      );
    }
    return checks;
  } finally {
    await mori.close();
  }
}

export async function doctor(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: { offline: { type: 'boolean', default: false }, url: { type: 'string' } },
  });
  // Every problem at once, as the service would name them at start-up; the variables without one
  // are still read, so the other checks run with what is valid.
  const checks = checkConfig(ctx.env);
  const { env, invalid } = readVariables(ctx.env);
  // A variable read as unset would send the check to the default (the embedded Redis, MORI's
  // production API) rather than where the service is meant to go: such a check waits for the fix.
  const unusable = (names: string[]) => names.filter((n) => invalid.has(n));
  const badRedis = [...invalid].filter((n) => n.startsWith('REDIS_'));
  if (badRedis.length > 0) checks.push(fail(`Redis: not checked (${badRedis.join(', ')} is invalid)`, 'fix it first'));
  else checks.push(...(await checkRedis(env)));
  const badMori = unusable(['MORI_API_BASE_URL', 'MORI_API_TOKEN', 'MORI_TIMEOUT_MS']);
  if (values.offline) checks.push(warn('MORI: not checked (--offline)', 'run doctor without --offline to check it'));
  else if (badMori.length > 0)
    checks.push(fail(`MORI: not checked (${badMori.join(', ')} invalid)`, 'fix the configuration first'));
  else checks.push(...(await checkMori(env, values.url)));

  for (const c of checks) {
    ctx.out(`${c.mark} ${c.what}`);
    if (c.fix && c.mark !== '✓') ctx.out(`    fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => c.mark === '✗').length;
  ctx.out(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
  return failed === 0 ? 0 : 1;
}
