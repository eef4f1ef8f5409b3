import type { Logger } from 'pino';
import { TIMED_OUT, withinDeadline } from './within-deadline.js';

interface Closer {
  name: string;
  close(): Promise<unknown>;
}

/**
 * Runs every closer in order, each even if an earlier one threw or hung, within one overall
 * deadline, and logs each failure. Returns true when everything closed in time.
 */
async function closeAll(closers: readonly Closer[], deadlineMs: number, logger: Logger): Promise<boolean> {
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

/**
 * The order in which the service's resources close: stop taking webhooks (and finish requests in
 * flight), let workers finish or hand back their jobs, close what they wrote to (sinks, the MORI
 * client), then the queues, then the Redis connections, and last the embedded redis-server.
 */
const CLOSE_ORDER = ['intake', 'work', 'outputs', 'queues', 'connections', 'redis-server'] as const;
type ClosePhase = (typeof CLOSE_ORDER)[number];

export interface Resources {
  /** Registers a resource to close in its phase; within a phase, in the order registered. */
  add(phase: ClosePhase, name: string, close: () => Promise<unknown>): void;
  /** Closes everything registered, in phase order, within one deadline (closeAll). */
  closeAll(deadlineMs: number, logger: Logger): Promise<boolean>;
}

/**
 * The one ordered list of what the process opened, whatever order it opened them in.
 * Why not close-with-grace (what fastify/demo uses): it gives one signal handler and one deadline
 * around a single close function, which main.ts has in a few lines; what it does not give is
 * this ordering by phase and a deadline shared across closers, each tried even after one hangs.
 */
export function createResources(): Resources {
  const entries: (Closer & { phase: ClosePhase })[] = [];
  return {
    add: (phase, name, close) => void entries.push({ phase, name, close }),
    closeAll: (deadlineMs, logger) => {
      const ordered = CLOSE_ORDER.flatMap((phase) => entries.filter((e) => e.phase === phase));
      entries.length = 0;
      return closeAll(ordered, deadlineMs, logger);
    },
  };
}
