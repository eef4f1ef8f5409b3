import { vi } from 'vitest';

/**
 * Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`
 * with the last error or value: waiting on a condition, never on a fixed sleep. A thin layer over
 * vitest's `vi.waitFor`, which retries only on a throw, so a falsy answer is turned into one.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  {
    timeoutMs = 10_000,
    intervalMs = 25,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, undefined | false>> {
  return vi.waitFor(
    async () => {
      const v = await probe();
      if (v === undefined || v === false) throw new Error(`still ${JSON.stringify(v)}`);
      return v as Exclude<T, undefined | false>;
    },
    { timeout: timeoutMs, interval: intervalMs, message: `timed out after ${timeoutMs} ms waiting for ${what}` },
  );
}
