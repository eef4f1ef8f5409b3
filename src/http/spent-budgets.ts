/**
 * Clients whose unsigned-traffic budget is spent, and until when, remembered in this process. Once
 * the shared store (Redis) has said a client is over its budget, the rest of its window is answered
 * 429 from here: a forged flood costs an HMAC and no Redis round trip per request. The window is
 * the store's (a fixed window, reset only when it ends), so the answer is the one the store would
 * give; another replica asks the store once for itself.
 */
export interface SpentBudgets {
  /** Seconds until the client's window ends, or undefined when it is not known to be spent. */
  retryAfterS(client: string, now: number): number | undefined;
  /** Records that the client's budget is spent for `ttlMs` more; true the first time in a window. */
  spend(client: string, now: number, ttlMs: number): boolean;
}

/** Past this many clients remembered at once, the list starts over: memory stays bounded in any flood. */
const MAX_CLIENTS = 10_000;

export function createSpentBudgets(): SpentBudgets {
  const until = new Map<string, number>();
  return {
    retryAfterS(client, now) {
      const end = until.get(client);
      if (end === undefined) return undefined;
      if (end <= now) {
        until.delete(client);
        return undefined;
      }
      return Math.ceil((end - now) / 1000);
    },
    spend(client, now, ttlMs) {
      const known = (until.get(client) ?? 0) > now;
      if (!known && until.size >= MAX_CLIENTS) until.clear();
      until.set(client, now + ttlMs);
      return !known;
    },
  };
}
