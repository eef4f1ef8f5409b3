/**
 * Ten seconds: an outage or a failover shows in the log within one interval, while an error that
 * repeats thousands of times a second (MOVED, READONLY, ECONNREFUSED on every reconnect) costs
 * two lines per interval instead of filling the disk (README, "Redis topologies").
 */
const WARNING_INTERVAL_MS = 10_000;

/**
 * A warning for errors that may repeat without end: the first one of an interval is logged at
 * once, the rest are counted and summed up in one line (`repeated`, with the last message) when
 * the interval ends.
 */
export function throttledWarning(
  logger: { warn(fields: object, message: string): void },
  fields: Record<string, unknown>,
  message: string,
  intervalMs = WARNING_INTERVAL_MS,
): (err: unknown) => void {
  let windowEnds = 0;
  let repeated = 0;
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (repeated === 0) return;
    logger.warn({ ...fields, err: last, repeated, intervalMs }, `${message} (repeated)`);
    repeated = 0;
  };
  return (err) => {
    const text = err instanceof Error ? err.message : String(err);
    const now = Date.now();
    if (now >= windowEnds) {
      windowEnds = now + intervalMs;
      logger.warn({ ...fields, err: text }, message);
      return;
    }
    repeated += 1;
    last = text;
    if (timer === undefined) {
      timer = setTimeout(flush, windowEnds - now);
      timer.unref();
    }
  };
}
