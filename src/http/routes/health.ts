import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { readyProbeKey } from '../../keys.js';
import type { Redis } from '../../redis.js';
import { throttledWarning } from '../../throttled-warning.js';
import { TIMED_OUT, withinDeadline } from '../../within-deadline.js';
import { errorBody, ok } from '../reply.js';

/** A readiness probe must answer before the load balancer's own timeout (typically 1–2 s). */
const READY_DEADLINE_MS = 1000;
/** The probe key outlives any probe interval, so it never piles up and never needs cleaning. */
const READY_KEY_TTL_MS = 60_000;

/**
 * Ready means this process can write where its keys live: a PING answers on a replica, on a
 * cluster node that does not own the slot and on a Sentinel, none of which can take a webhook.
 * The write goes through the same client and key prefix as the enqueue, so in cluster mode it
 * reaches the master of the keys' slot (README, "Redis topologies").
 */
async function canWrite(redis: Redis, key: string): Promise<true | string> {
  try {
    const answer = await withinDeadline(redis.set(key, String(Date.now()), 'PX', READY_KEY_TTL_MS), READY_DEADLINE_MS);
    return answer === TIMED_OUT ? `no answer within ${READY_DEADLINE_MS} ms` : true;
  } catch (err) {
    return (err as Error).message;
  }
}

/** GET /healthz: the process lives. GET /readyz: the master of our keys takes writes, so webhooks can be queued. */
export async function healthRoutes(app: FastifyInstance, deps: { redis: Redis; keyPrefix: string }): Promise<void> {
  const key = readyProbeKey(deps.keyPrefix);
  const warn = throttledWarning(app.log, { route: '/readyz' }, 'not ready: Redis does not take writes');
  app.get('/healthz', async () => ok('alive', { status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const writable = await canWrite(deps.redis, key);
    if (writable === true) return ok('ready', { redis: 'up' });
    // The cause goes to the log only: this route may be reachable from outside, and Redis' errors name hosts.
    warn(writable);
    return reply.code(503).send(errorBody(new AppError('QUEUE_UNAVAILABLE', 'Redis does not take writes')));
  });
}
