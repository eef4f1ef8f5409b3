import { UnrecoverableError } from 'bullmq';

/**
 * Retries are bounded by time, not by count (docs/interface.md, "Retry budgets"): a job records
 * when trouble started, and each new failure compares that with its budget. Returns the start to
 * record (`since`, or now on the first failure); past the budget, throws BullMQ's
 * UnrecoverableError so the job becomes a dead letter saying how long it tried and why.
 */
export function spendRetryBudget(
  since: number | undefined,
  budgetMs: number,
  why: (seconds: number) => string,
  now = Date.now(),
): number {
  const start = since ?? now;
  if (now - start > budgetMs) throw new UnrecoverableError(why(Math.round((now - start) / 1000)));
  return start;
}
