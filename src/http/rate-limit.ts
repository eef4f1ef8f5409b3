import type { CreateRateLimitOptions, RateLimitPluginOptions } from '@fastify/rate-limit';
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
 * The webhook's budget for traffic without a valid signature, per client IP (behind a load
 * balancer the IP is right only with TRUST_PROXY). MORI sends bursts and retries only a few times,
 * so throttling it would lose events: a request with a valid signature never touches the store (no
 * extra Redis round trip on the hot path). Everything else counts: unsigned, forged, and garbage
 * refused before the signature could be checked (413, 415, malformed JSON).
 */
export function unsignedLimitOptions(config: Config): CreateRateLimitOptions {
  return {
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    keyGenerator: (request: FastifyRequest) => request.ip,
    skipOnError: true,
  };
}
