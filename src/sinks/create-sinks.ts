import type { Redis } from '../redis.js';
import { createArchiveSink, type ArchiveSinkDeps } from './archive-sink.js';
import { createFileSink } from './file-sink.js';
import { createHttpSink } from './http-sink.js';
import { createRedisStreamSink } from './redis-stream-sink.js';
import type { SinkConfig } from './sink-config.js';
import type { Sink } from './sink.js';
import { createStdoutSink } from './stdout-sink.js';

/** One sink per validated definition; adding a sink type touches this switch and the config union. */
export function createSinks(
  configs: readonly SinkConfig[],
  deps: { redis: Redis; out: NodeJS.WritableStream; archive: ArchiveSinkDeps },
): Sink[] {
  return configs.map((config): Sink => {
    switch (config.type) {
      case 'http':
        return createHttpSink(config);
      case 'file':
        return createFileSink(config);
      case 'redis-stream':
        return createRedisStreamSink(config, deps);
      case 'stdout':
        return createStdoutSink(config, deps);
      case 'archive':
        return createArchiveSink(config, deps.archive);
      default: {
        const unknown: never = config;
        throw new Error(`unknown sink type ${JSON.stringify(unknown)}`);
      }
    }
  });
}
