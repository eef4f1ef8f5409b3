import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { Redis } from '../../redis.js';
import { withinDeadline } from '../../within-deadline.js';
import { errorBody, ok } from '../reply.js';

/** A readiness probe must answer before the load balancer's own timeout (typically 1–2 s). */
const READY_DEADLINE_MS = 1000;

async function pingWithin(redis: Redis, ms: number): Promise<boolean> {
  const answer = await withinDeadline(
    redis.ping().catch(() => 'failed'),
    ms,
  );
  return answer === 'PONG';
}

/** GET /healthz: the process lives. GET /readyz: Redis answers, so webhooks can be queued. */
export async function healthRoutes(app: FastifyInstance, deps: { redis: Redis }): Promise<void> {
  app.get('/healthz', async () => ok('alive', { status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (await pingWithin(deps.redis, READY_DEADLINE_MS)) return ok('ready', { redis: 'up' });
    return reply.code(503).send(errorBody(new AppError('QUEUE_UNAVAILABLE', 'Redis does not answer')));
  });
}
