import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics.js';

/** GET /metrics: Prometheus text. `collect` refreshes gauges that are read on demand (queue depths). */
export async function metricsRoute(
  app: FastifyInstance,
  deps: { metrics: Metrics; collect?: () => Promise<void> },
): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    try {
      await deps.collect?.();
    } catch (err) {
      // A scrape while Redis is away still serves the process' own counters.
      request.log.warn({ err }, 'could not refresh queue gauges for /metrics');
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
