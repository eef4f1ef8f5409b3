import type { Logger } from 'pino';
import type { WorkerConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import { createSinks } from '../sinks/create-sinks.js';
import type { Sink } from '../sinks/sink.js';
import { archiveDepsFor } from './archive-deps-for.js';
import { createWorkerMoriClient } from './create-worker-mori-client.js';
import { startWorkers, type WorkerDeps, type Workers } from './start-workers.js';

/** What the worker role opened, for its owner to close: workers first, then sinks and the MORI client. */
export interface WorkerRole {
  workers: Workers;
  sinks: readonly Sink[];
  mori: MoriClient;
}

/**
 * The worker role's wiring, in one place for the service (main.ts) and the tests: the MORI client
 * with the account's token, the configured sinks (the archive sink reads downloads through that
 * client), and the BullMQ workers over both. Its config type (WorkerConfig) says a worker cannot start without the token.
 */
export function startWorkerRole(
  deps: Omit<WorkerDeps, 'mori' | 'sinks' | 'config'> & {
    config: WorkerConfig;
    /** Where a stdout sink writes. */
    out: NodeJS.WritableStream;
    logger: Logger;
    metrics: Metrics;
  },
): WorkerRole {
  const mori = createWorkerMoriClient(deps.config, deps.metrics, deps.logger);
  const sinks = createSinks(deps.config.sinks, {
    redis: deps.redis,
    out: deps.out,
    archive: archiveDepsFor(mori, deps.metrics),
  });
  const { out: _out, ...workerDeps } = deps;
  const workers = startWorkers({ ...workerDeps, mori, sinks });
  return { workers, sinks, mori };
}
