import type { Logger } from 'pino';
import type { WorkerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import { createMoriClient, type MoriClient } from '../mori/mori-client.js';

/**
 * The MORI client a worker uses: every call counted by purpose, every Deprecation / Sunset notice
 * counted and logged once per endpoint, so an operator hears of a sunset before the 410.
 */
export function createWorkerMoriClient(config: WorkerConfig, metrics: Metrics, logger: Logger): MoriClient {
  const warned = new Set<string>();
  return createMoriClient({
    baseUrl: config.MORI_API_BASE_URL,
    token: config.MORI_API_TOKEN,
    timeoutMs: config.MORI_TIMEOUT_MS,
    apiVersion: config.MORI_API_VERSION,
    onCall: ({ purpose, endpoint, status, seconds }) => {
      metrics.moriLookupDuration.observe({ status }, seconds);
      metrics.moriCalls.inc({ purpose, endpoint, status });
    },
    onDeprecation: ({ endpoint, deprecation, sunset }) => {
      metrics.moriDeprecations.inc({ endpoint });
      if (warned.has(endpoint)) return;
      warned.add(endpoint);
      logger.warn(
        { endpoint, deprecation, sunset },
        'MORI marks this endpoint deprecated; plan the move before its sunset (MORI_API_VERSION)',
      );
    },
  });
}
