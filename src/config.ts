import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PLAN_LIMITS_PER_MINUTE, type MoriPlan } from './mori/lookup-budget.js';
import { redactSecrets } from './redact-secrets.js';
import { REDIS_MODES, parseHostPort, redisTargetOf, type HostPort, type RedisTarget } from './redis-target.js';
import { sinkListSchema, type SinkConfig } from './sinks/sink-config.js';

/** Every role runs the same program; ROLE picks which halves start (docs/interface.md, "Running it"). */
const ROLES = ['all', 'api', 'worker'] as const;

/**
 * With REDIS_URL unset, `npm start` runs its own redis-server on this loopback port, and the
 * command-line tool looks for it there. Not 6379, so it never collides with a system Redis.
 */
export const LOCAL_REDIS_PORT = 6390;
export const LOCAL_REDIS_URL = `redis://127.0.0.1:${LOCAL_REDIS_PORT}`;

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

const DEFAULT_SINKS: SinkConfig[] = [{ type: 'file', name: 'orders-file', path: 'data/orders.jsonl' }];

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A share in (0, 1]. */
const fraction = z
  .string()
  .trim()
  .regex(/^(0?\.\d+|1(\.0+)?|0*1)$/, 'expected a number greater than 0 and at most 1, e.g. 0.5')
  .transform(Number)
  .pipe(z.number().gt(0, 'must be greater than 0').max(1));

const bool = z
  .string()
  .trim()
  .pipe(z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'], case: 'insensitive' }));

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

const redisUrl = z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' });

/** A comma-separated list, blanks dropped. */
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const hostPort = z.string().transform((v, ctx): HostPort => {
  const parsed = parseHostPort(v);
  if (parsed) return parsed;
  ctx.addIssue({ code: 'custom', message: `expected host:port, got "${v}"` });
  return z.NEVER;
});

/** REDIS_CLUSTER_NAT_MAP: `announced-host:port=reachable-host:port`, comma-separated. */
const natMap = list.pipe(
  z
    .array(
      z.string().transform((pair, ctx): [string, HostPort] => {
        const [from, to, extra] = pair.split('=');
        const target = to === undefined ? undefined : parseHostPort(to);
        if (from !== undefined && parseHostPort(from) && target && extra === undefined) return [from.trim(), target];
        ctx.addIssue({ code: 'custom', message: `expected announced-host:port=reachable-host:port, got "${pair}"` });
        return z.NEVER;
      }),
    )
    .transform((pairs) => Object.fromEntries(pairs)),
);

/**
 * TRUST_PROXY: `false` (default), `true` (trust every hop: only behind a proxy that strips client
 * X-Forwarded-For), a hop count, or a comma-separated list of proxy addresses/CIDRs. Fastify takes
 * `true`/`false` and lists as they are; since 5.12.1 it refuses a bare hop count, so
 * http/build-server.ts turns one into a function, under the assumption docs/decisions.md, "Trust
 * proxy", states: every request reaches us through exactly that many proxies.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): boolean | number | string[] => {
    if (v === '' || v === 'false') return false;
    if (v === 'true') return true;
    if (/^\d+$/.test(v)) return Number(v);
    const list = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.every((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s))) return list;
    ctx.addIssue({ code: 'custom', message: 'expected false, true, a hop count or a list of proxy IPs/CIDRs' });
    return z.NEVER;
  });

/** Secrets as MORI issues them (`whsec_…` included); several during a rotation. */
const secretList = list.pipe(z.array(z.string().min(8, 'each secret must be at least 8 characters')));

const path = z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected a path starting with / (letters, digits, / _ . -)');

const envSchema = z.object({
  ROLE: z.enum(ROLES).default('all'),
  PORT: int(0, 65535).default(8080),
  /**
   * Loopback unless told otherwise: `npm start` on a laptop should not serve /metrics (no token) to
   * the network. The image and docker-compose.yml set HOST=0.0.0.0 themselves.
   */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** single (REDIS_URL), sentinel or cluster: README, "Redis topologies". */
  REDIS_MODE: z.enum(REDIS_MODES).default('single'),
  REDIS_URL: redisUrl.optional(),
  REDIS_SENTINELS: list.pipe(z.array(hostPort).min(1, 'list at least one sentinel as host:port')).optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ and - only')
    .optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_CLUSTER_NODES: list.pipe(z.array(redisUrl).min(1, 'list at least one seed node URL')).optional(),
  REDIS_CLUSTER_NAT_MAP: natMap.optional(),
  /**
   * Answer a webhook 200 only once this many replicas hold its job (Redis WAIT), so a failover
   * cannot lose an acknowledged event; 0 answers once the master has it (README, "Redis topologies").
   */
  REDIS_WAIT_REPLICAS: int(0, 16).default(0),
  /** How long an enqueue (and a ledger mark) waits for those replicas; short of the enqueue deadline. */
  REDIS_WAIT_TIMEOUT_MS: int(10, 4000).default(500),
  /** Key prefix of every queue; the braces are a Redis Cluster hash tag (docs/field-notes.md "Naming"). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9{}_-]{1,64}$/, 'letters, digits, {}, _ and - only (no ":")')
    .default('{mori}'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: pretty on a terminal outside production, JSON otherwise (src/logger.ts, usePrettyLogs). */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),

  MORI_API_BASE_URL: httpUrl.default('https://api.bizmori.com'),
  MORI_API_TOKEN: z.string().min(1).optional(),
  MORI_WEBHOOK_SECRET: secretList.optional(),
  MORI_WEBHOOK_ALLOW_UNSIGNED: bool.default(false),

  WEBHOOK_PATH: path.default('/webhooks/mori'),
  /** 64 KiB: MORI's events are under 2 KiB; docs/interface.md. */
  WEBHOOK_BODY_LIMIT: int(1024, 10 * 1024 * 1024).default(64 * 1024),
  /** 7 days (docs/interface.md); MORI's own retries end after ~7 s, but operators replay later. */
  DEDUPE_WINDOW_SECONDS: int(60).default(7 * 24 * 3600),
  /** Deadline for the enqueue: MORI waits 5 s, so answer 503 well before that (docs/field-notes.md). */
  WEBHOOK_ENQUEUE_TIMEOUT_MS: int(100, 4500).default(3000),
  TRUST_PROXY: trustProxy.default(false),
  /** Longest time a client may take to send a whole request; MORI sends its events at once (docs/interface.md). */
  HTTP_REQUEST_TIMEOUT_MS: int(500, 120_000).default(10 * SECOND_MS),
  /** Requests without a valid signature, per client IP and window; signed MORI traffic is never limited. */
  RATE_LIMIT_MAX: int(1).default(60),
  RATE_LIMIT_WINDOW_MS: int(1000).default(MINUTE_MS),

  SINKS: z.string().optional(),
  SINKS_FILE: z.string().min(1).optional(),

  WORKER_CONCURRENCY: int(1, 1000).default(20),
  /** MORI recommends a 30 s client timeout (docs/mori-api.md). */
  MORI_TIMEOUT_MS: int(100).default(30 * SECOND_MS),
  /** `v3` is MORI's current order detail; `v2` is deprecated, kept for accounts that need it. */
  MORI_API_VERSION: z.enum(['v3', 'v2']).default('v3'),
  /**
   * The account's plan sets MORI's request limit, shared by everything that uses the API key
   * (docs/mori-api.md, "Auth and rate limits"); MORI_RATE_LIMIT_PER_MINUTE overrides it (a
   * negotiated Enterprise limit).
   */
  MORI_PLAN: z.enum(Object.keys(PLAN_LIMITS_PER_MINUTE) as [MoriPlan, ...MoriPlan[]]).default('free'),
  MORI_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).optional(),
  /** The share of the plan's limit this service may spend, across every worker; the customer's own application keeps the rest. */
  MORI_BUDGET_SHARE: fraction.default(0.5),
  /** The length of MORI's rate window: one minute. Shorter only to compress time in tests and benchmarks. */
  MORI_RATE_LIMIT_WINDOW_MS: int(100).default(MINUTE_MS),
  /** A spent quota (USAGE_LIMIT_EXCEEDED, ...) pauses every worker's look-ups this long at a time; events wait. */
  MORI_QUOTA_PAUSE_MS: int(1000).default(10 * MINUTE_MS),
  /** MORI look-up failures (network, timeout, 429, 5xx): at least 1 h (docs/interface.md, "Retry budgets"). */
  MORI_RETRY_BUDGET_MS: int(0).default(6 * HOUR_MS),
  MORI_RETRY_BASE_MS: int(1).default(2 * SECOND_MS),
  MORI_RETRY_MAX_DELAY_MS: int(1).default(5 * MINUTE_MS),
  /** A rejected API token pauses every worker's look-ups this long at a time (a config error, not an outage). */
  MORI_AUTH_PAUSE_MS: int(100).default(MINUTE_MS),
  /** Orders still pending/inProgress: at least 30 min (docs/interface.md, "Retry budgets"). */
  ORDER_PENDING_BUDGET_MS: int(0).default(2 * HOUR_MS),
  ORDER_PENDING_BASE_MS: int(1).default(5 * SECOND_MS),
  ORDER_PENDING_MAX_DELAY_MS: int(1).default(2 * MINUTE_MS),
  /**
   * A failing sink: at least 24 h (docs/interface.md, "Retry budgets"); Standard Webhooks' example
   * schedule runs ~3 days.
   */
  SINK_RETRY_BUDGET_MS: int(0).default(72 * HOUR_MS),
  SINK_RETRY_BASE_MS: int(1).default(5 * SECOND_MS),
  /**
   * MORI's presigned URLs expire after 1 hour (docs/mori-api.md): a delivery made later than this after
   * the look-up (a sink that was down, a backlog) reads the order again so the sink gets live URLs.
   */
  ORDER_REFRESH_AFTER_MS: int(0).default(50 * MINUTE_MS),
  SINK_RETRY_MAX_DELAY_MS: int(1).default(HOUR_MS),
  /**
   * A dead worker's job is taken up after the lock lapses plus at most one stalled interval:
   * 45 s + 15 s keeps that within "about a minute" (docs/interface.md, "Retry budgets"). The lock
   * is renewed every lockDuration / 2 while the job runs, so a 30 s MORI look-up never loses it.
   */
  WORKER_LOCK_DURATION_MS: int(1000).default(45 * SECOND_MS),
  WORKER_STALLED_INTERVAL_MS: int(1000).default(15 * SECOND_MS),
  /** Two, so a job interrupted by one crash and one deploy is not failed (docs/field-notes.md pain 6). */
  WORKER_MAX_STALLED_COUNT: int(1).default(2),

  /**
   * How often one worker (only one, however many run) sweeps MORI's order list for final orders
   * whose webhooks never arrived; 0 turns the reconciler off (docs/decisions.md, "The reconciler").
   */
  RECONCILE_INTERVAL_MS: int(0).default(5 * MINUTE_MS),
  /** How far back a sweep reads; at most MORI's longest retention, 30 days (docs/mori-api.md, "Reading orders"). */
  RECONCILE_HORIZON_MS: int(MINUTE_MS, 30 * 24 * HOUR_MS).default(24 * HOUR_MS),
  /** Which of MORI's channels to sweep: orders created through the API, the web console, or both. */
  RECONCILE_CHANNELS: list
    .pipe(z.array(z.enum(['api', 'web'], 'each channel must be api or web')).min(1))
    .default(['api']),

  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** The dashboard only looks unless this is false: its clean/remove actions delete dedupe keys. */
  ADMIN_READ_ONLY: bool.default(true),
  /** Below Kubernetes' default 30 s grace period, so we exit before SIGKILL. */
  SHUTDOWN_TIMEOUT_MS: int(1000).default(25 * SECOND_MS),
});

export type Env = z.output<typeof envSchema>;

/** Every environment variable the service reads, for the checks that keep docs and compose in step. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

interface CommonConfig extends Omit<Env, 'SINKS' | 'SINKS_FILE' | 'MORI_WEBHOOK_SECRET'> {
  MORI_WEBHOOK_SECRET: readonly string[];
  sinks: readonly SinkConfig[];
  /** Undefined in single mode without REDIS_URL: `npm start` runs its own redis-server. */
  redis: RedisTarget | undefined;
  runsApi: boolean;
}

/** Where a worker runs, the token is there (loadConfig refuses otherwise): `runsWorker` narrows it. */
export type Config =
  (CommonConfig & { runsWorker: false }) | (CommonConfig & { runsWorker: true; MORI_API_TOKEN: string });
/** The configuration of a process that runs workers: what the worker role is built from. */
export type WorkerConfig = Extract<Config, { runsWorker: true }>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function formatIssue(prefix: string, issue: z.core.$ZodIssue): string {
  const where = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `${where}: ${issue.message}`;
}

/** Longest part of a bad value a message echoes. */
const ECHO_CHARS = 60;

/**
 * ` (got "…")`: the bad value, so the reader sees what was read, through the one secret rule
 * (src/redact-secrets.ts): a token, secret or URL variable shows as [redacted], and credentials
 * inside any URL as ***.
 */
function echo(name: string, value: string | undefined): string {
  if (value === undefined) return '';
  // A URL's user and password are masked wherever they are (REDIS_CLUSTER_NODES lists URLs).
  const shown = String((redactSecrets({ [name]: value }) as Record<string, unknown>)[name]).replace(
    /\/\/[^/@\s]*@/g,
    '//***@',
  );
  return ` (got ${JSON.stringify(shown.length > ECHO_CHARS ? `${shown.slice(0, ECHO_CHARS)}…` : shown)})`;
}

function readSinks(env: Env, problems: string[]): SinkConfig[] {
  if (env.SINKS !== undefined && env.SINKS_FILE !== undefined) {
    problems.push('SINKS and SINKS_FILE: set one of them, not both');
    return [];
  }
  let text: string | undefined = env.SINKS;
  let source = 'SINKS';
  if (env.SINKS_FILE !== undefined) {
    source = 'SINKS_FILE';
    try {
      text = readFileSync(env.SINKS_FILE, 'utf8');
    } catch (err) {
      problems.push(
        `SINKS_FILE: cannot read ${env.SINKS_FILE} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
      return [];
    }
  }
  if (text === undefined || text.trim() === '') return DEFAULT_SINKS;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.push(`${source}: not valid JSON (${(err as Error).message})`);
    return [];
  }
  const parsed = sinkListSchema.safeParse(json);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => formatIssue(source, i)));
    return [];
  }
  return parsed.data;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The variables alone, validated, without the checks that depend on ROLE: for the command-line
 * tool, which needs Redis or the secret but never both roles' requirements.
 */
export function parseEnv(source: NodeJS.ProcessEnv): Env {
  const { env, problems } = readVariables(source);
  if (problems.length > 0) throw new ConfigError(problems);
  return env;
}

/**
 * The variables, each problem named; the variables that had one are read as unset, so the checks
 * that depend on the others (sinks, ROLE's requirements, `doctor`'s) still run and report too.
 */
export function readVariables(source: NodeJS.ProcessEnv): { env: Env; problems: string[]; invalid: Set<string> } {
  // Empty strings count as unset, as .env files and compose interpolation produce them.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return { env: parsed.data, problems: [], invalid: new Set() };
  const invalid = new Set(parsed.error.issues.map((i) => String(i.path[0])));
  const rest = envSchema.parse(Object.fromEntries(Object.entries(env).filter(([k]) => !invalid.has(k))));
  const problems = parsed.error.issues.map((i) => {
    const name = String(i.path[0]);
    // Some messages name the bad part themselves ("got \"s2\""): those need no second echo.
    return `${formatIssue('', i)}${/\bgot\b/.test(i.message) ? '' : echo(name, env[name])}`;
  });
  return { env: rest, problems, invalid };
}

/** Parses the environment once; throws one ConfigError listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv): Config {
  const { env: e, problems, invalid } = readVariables(source);
  const sinks = invalid.has('SINKS') || invalid.has('SINKS_FILE') ? [] : readSinks(e, problems);
  const redis = [...invalid].some((name) => name.startsWith('REDIS_')) ? undefined : redisTargetOf(e, problems);
  if (e.REDIS_WAIT_TIMEOUT_MS >= e.WEBHOOK_ENQUEUE_TIMEOUT_MS) {
    problems.push(
      `REDIS_WAIT_TIMEOUT_MS: must be shorter than WEBHOOK_ENQUEUE_TIMEOUT_MS (${e.WEBHOOK_ENQUEUE_TIMEOUT_MS} ms), which it is part of`,
    );
  }
  // With ROLE itself invalid, which requirements apply is unknown: only ROLE's problem is named.
  const runsApi = e.ROLE !== 'worker';
  const runsWorker = e.ROLE !== 'api';
  const roleKnown = !invalid.has('ROLE');

  if (
    roleKnown &&
    runsApi &&
    !invalid.has('MORI_WEBHOOK_SECRET') &&
    (e.MORI_WEBHOOK_SECRET ?? []).length === 0 &&
    !e.MORI_WEBHOOK_ALLOW_UNSIGNED
  ) {
    problems.push(
      'MORI_WEBHOOK_SECRET: required where the receiver runs (ROLE=all|api); set MORI_WEBHOOK_ALLOW_UNSIGNED=true only for local testing',
    );
  }
  if (roleKnown && runsWorker && !invalid.has('MORI_API_TOKEN') && e.MORI_API_TOKEN === undefined) {
    problems.push('MORI_API_TOKEN: required where a worker runs (ROLE=all|worker)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { SINKS: _s, SINKS_FILE: _f, MORI_WEBHOOK_SECRET, ...rest } = e;
  const common = { ...rest, MORI_WEBHOOK_SECRET: MORI_WEBHOOK_SECRET ?? [], sinks, redis, runsApi };
  // The check above made the token present wherever a worker runs; the union records it for callers.
  const config: Config =
    runsWorker && e.MORI_API_TOKEN !== undefined
      ? { ...common, runsWorker: true, MORI_API_TOKEN: e.MORI_API_TOKEN }
      : { ...common, runsWorker: false };
  return deepFreeze(config);
}
