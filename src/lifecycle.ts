import type { Logger } from 'pino';
import { TIMED_OUT, withinDeadline } from './within-deadline.js';

export interface Closer {
  name: string;
  close(): Promise<unknown>;
}

/**
 * Runs every closer in order, each even if an earlier one threw or hung, within one overall
 * deadline, and logs each failure. Returns true when everything closed in time.
 */
export async function closeAll(closers: readonly Closer[], deadlineMs: number, logger: Logger): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  let clean = true;
  for (const closer of closers) {
    const left = until - Date.now();
    if (left <= 0) {
      logger.error({ closer: closer.name }, 'shutdown deadline passed before this resource was closed');
      clean = false;
      continue;
    }
    try {
      if ((await withinDeadline(closer.close(), left)) === TIMED_OUT) {
        logger.error({ closer: closer.name }, 'closing timed out');
        clean = false;
      }
    } catch (err) {
      logger.error({ err, closer: closer.name }, 'closing failed');
      clean = false;
    }
  }
  return clean;
}

/** Wraps a close function so calling it again returns the first call's promise. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
