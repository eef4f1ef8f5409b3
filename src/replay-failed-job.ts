import type { Job } from 'bullmq';

/** The worker's budget markers; a replayed job starts its budgets again. */
const BUDGET_FIELDS = ['failingSince', 'pendingSince', 'pendingChecks'];

/**
 * Puts one dead-lettered (failed) job back to work with fresh retry budgets: the one way both the
 * `replay` command and the order page's replay button move a dead letter. Deliveries stay
 * deduplicated by the ledger, so a state a sink already has is not sent again.
 */
export async function replayFailedJob(job: Job): Promise<void> {
  const data = Object.fromEntries(
    Object.entries((job.data ?? {}) as Record<string, unknown>).filter(([k]) => !BUDGET_FIELDS.includes(k)),
  );
  await job.updateData(data);
  await job.retry('failed');
}
