/** What `withinDeadline` resolves to when the deadline came first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `work`'s outcome, or TIMED_OUT once `ms` have passed. The timer is always cleared, and a
 * rejection of `work` arriving after the deadline is swallowed rather than left unhandled (the
 * caller has already moved on).
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  try {
    return await Promise.race([
      work,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
