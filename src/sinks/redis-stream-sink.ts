import { closeRedis, createRedis, type Redis } from '../redis.js';
import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

type RedisStreamSinkConfig = Extract<SinkConfig, { type: 'redis-stream' }>;

/**
 * XADDs one entry per delivery with the fields `id`, `type` and `envelope`, trimmed to about
 * `maxLen` entries (`MAXLEN ~` lets Redis trim whole nodes, far cheaper than an exact trim).
 * Uses the service's Redis unless the sink names its own `url`.
 */
export function createRedisStreamSink(config: RedisStreamSinkConfig, deps: { redis: Redis }): Sink {
  const own = config.url ? createRedis(config.url, 'plain', `mori-sink-${config.name}`) : undefined;
  own?.on('error', () => undefined);
  const redis = own ?? deps.redis;
  return {
    name: config.name,
    type: 'redis-stream',
    async deliver(envelope: DeliveryEnvelope) {
      try {
        await redis.xadd(
          config.stream,
          'MAXLEN',
          '~',
          config.maxLen,
          '*',
          'id',
          envelope.id,
          'type',
          envelope.type,
          'envelope',
          JSON.stringify(envelope),
        );
      } catch (err) {
        throw new SinkError(
          config.name,
          `sink "${config.name}" could not XADD to ${config.stream}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    },
    close: async () => {
      if (own) await closeRedis(own);
    },
  };
}
