import { intakeKey } from './keys.js';
import type { Redis } from './redis.js';

export interface IntakeDepth {
  /** Events accepted and not yet jobs on the events queue. */
  entries: number;
  /** Age of the oldest of them, in seconds; undefined when the intake is empty. */
  oldestSeconds: number | undefined;
}

/** How far the workers are behind the webhook: a stream id starts with the time its entry was added (ms). */
export async function readIntakeDepth(redis: Redis, prefix: string): Promise<IntakeDepth> {
  const stream = intakeKey(prefix);
  const [entries, first] = await Promise.all([redis.xlen(stream), redis.xrange(stream, '-', '+', 'COUNT', 1)]);
  const addedAt = first[0] ? Number(first[0][0].split('-')[0]) : undefined;
  return { entries, oldestSeconds: addedAt === undefined ? undefined : Math.max(0, (Date.now() - addedAt) / 1000) };
}
