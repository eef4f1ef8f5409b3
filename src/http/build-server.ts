import rateLimit from '@fastify/rate-limit';
import type { Queue } from 'bullmq';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { createOrderHistory } from '../history/order-history.js';
import type { Metrics } from '../metrics.js';
import type { EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';
import type { Tracing } from '../tracing.js';
import { rateLimitPluginOptions } from './rate-limit.js';
import { frameworkErrorHandler, installErrorHandling } from './reply.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { webhookRoute } from './routes/webhook.js';
import { createIntake } from '../webhook/intake.js';

export interface ServerDeps {
  config: Config;
  logger: FastifyBaseLogger;
  metrics: Metrics;
  queue: Queue<EventJobData>;
  /** The producer connection: fails fast, used for readiness. */
  redis: Redis;
  /** A connection of its own for the rate-limit store. */
  rateLimitRedis: Redis;
  /** Refreshes on-demand gauges before a scrape. */
  collectMetrics?: () => Promise<void>;
  /** Queues shown on the dashboard when ADMIN_TOKEN is set. */
  adminQueues?: Queue[];
  /** Traces, when the OTEL_* variables ask for them (src/telemetry.ts). */
  tracing?: Tracing;
}

const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A hop count trusts that many proxies nearest to us, whatever their addresses (what Express and
 * proxy-addr mean by a number). Fastify 5.12.1 stopped accepting a number because it cannot check
 * the immediate peer: safe only when no client can reach us except through those proxies
 * (docs/decisions.md, "Trust proxy"); otherwise list the proxies' addresses.
 */
function trustProxyOption(value: Config['TRUST_PROXY']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_addr, hop) => hop < value : value;
}

/** Builds the HTTP server with every plugin and route; the caller decides whether to listen. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    // One line per request is written in onResponse below, with the event and order ids.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    // Only the webhook route takes bodies; every other route stays at 1 KiB.
    bodyLimit: 1024,
    // A whole request, body included, must arrive within HTTP_REQUEST_TIMEOUT_MS, and its headers
    // within half that: a client trickling a byte a second cannot hold a socket. Node checks these
    // deadlines only every `connectionsCheckingInterval` (30 s by default), which let a trickle live
    // ~90 s; once a second keeps them close to what is configured.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.ceil(config.HTTP_REQUEST_TIMEOUT_MS / 2) },
    return503OnClosing: true,
    frameworkErrors: frameworkErrorHandler,
  });

  // First, so that every route and hook registered after it is traced.
  if (deps.tracing?.fastifyPlugin) await app.register(deps.tracing.fastifyPlugin);
  installErrorHandling(app);
  await app.register(rateLimit, rateLimitPluginOptions(config, deps.rateLimitRedis));

  // Callback style: an async hook would cost every request a promise for a synchronous write.
  app.addHook('onResponse', (request, reply, done) => {
    const w = request.webhook;
    const path = request.routeOptions.url ?? request.url.split('?')[0]!.slice(0, 200);
    // Probes and scrapes arrive every few seconds; at info they would bury the webhook lines. A
    // flood's 429s would too, and cost a line each: the limiter logs one line per client instead.
    const quiet =
      (PROBE_PATHS.has(path) && reply.statusCode < 400) || (reply.statusCode === 429 && path === config.WEBHOOK_PATH);
    const level = quiet ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        path,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        ip: request.ip,
        eventId: w?.eventId,
        orderId: w?.orderId,
        eventType: w?.eventType?.slice(0, 128),
        outcome: w?.outcome,
        code: request.rejection?.code,
      },
      'request',
    );
    done();
  });

  await app.register(healthRoutes, { redis: deps.redis, keyPrefix: deps.config.REDIS_PREFIX });
  await app.register(metricsRoute, { metrics: deps.metrics, collect: deps.collectMetrics });
  if (config.runsApi) {
    const history = createOrderHistory(deps.redis, config.REDIS_PREFIX, config.DEDUPE_WINDOW_SECONDS * 1000);
    const intake = createIntake(deps.redis, config.REDIS_PREFIX, {
      dedupeTtlMs: config.DEDUPE_WINDOW_SECONDS * 1000,
      telemetry: deps.queue.opts.telemetry,
    });
    await app.register(webhookRoute, { config, intake, redis: deps.redis, metrics: deps.metrics, history });
  }
  // Off unless protected: without ADMIN_TOKEN no admin route exists at all.
  if (config.ADMIN_TOKEN) {
    // Loaded only when it is on: Bull Board and its UI (lodash, redis-info, templates) are several
    // MB of heap that a receiver without a dashboard never needs (README, "Memory").
    const { ADMIN_BASE_PATH, adminRoutes } = await import('./routes/admin.js');
    await app.register(adminRoutes, {
      token: config.ADMIN_TOKEN,
      queues: deps.adminQueues ?? [deps.queue],
      readOnly: config.ADMIN_READ_ONLY,
      redis: deps.redis,
      keyPrefix: config.REDIS_PREFIX,
    });
    // Said once listening (the address is known then), so whoever set ADMIN_TOKEN knows where to
    // look; the token itself never.
    app.addHook('onListen', async () => {
      deps.logger.info(
        { dashboard: `${app.listeningOrigin}${ADMIN_BASE_PATH}`, readOnly: config.ADMIN_READ_ONLY },
        'dashboard (Bull Board) is on; every request needs ADMIN_TOKEN',
      );
    });
  }
  return app;
}
