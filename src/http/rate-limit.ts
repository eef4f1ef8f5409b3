import type { RateLimitOptions, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { rateLimitNamespace } from '../keys.js';
import type { Redis } from '../redis.js';

/**
 * Plugin-wide options. The store is Redis, so a limit holds across replicas. `skipOnError` is on
 * deliberately: when Redis is away the limiter lets the request through, so the route's own checks
 * answer (401 for a forgery, 503 for an event that cannot be queued) instead of a 500 from the hook.
 * No route is limited unless it opts in (`global: false`): health probes and metrics scrapes never are.
 */
export function rateLimitPluginOptions(config: Config, redis: Redis): RateLimitPluginOptions {
  return {
    global: false,
    redis,
    nameSpace: rateLimitNamespace(config.REDIS_PREFIX),
    skipOnError: true,
    errorResponseBuilder: (_req, ctx) =>
      new AppError('RATE_LIMITED', `too many requests without a valid signature; retry in ${ctx.after}`),
  };
}

/**
 * Route options for the webhook. MORI sends bursts and retries only three times, so throttling
 * it would lose events: requests with a valid signature are allow-listed and never touch the store
 * (no extra Redis round trip on the hot path). Everything else (unsigned, forged, garbage) counts
 * against a per-client-IP budget; behind a load balancer the client IP is right only with TRUST_PROXY.
 * The hook runs at preHandler, after the signature has been checked in preValidation.
 */
export function rateLimitFor(config: Config, isTrusted: (request: FastifyRequest) => boolean): RateLimitOptions {
  return {
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    hook: 'preHandler',
    keyGenerator: (request) => request.ip,
    allowList: (request) => isTrusted(request),
  };
}
