import type { Job, Queue } from 'bullmq';
import type { DeliveryJobData, EventJobData } from '../queues.js';
import { UsageError } from './io.js';
import type { openQueues } from './redis-for-cli.js';

const PAGE = 500;

/** What a dead letter of either queue may carry; every field optional, read for display and filtering. */
type AnyJobData = Partial<EventJobData & DeliveryJobData>;

/** Which dead letters a command works on: `--queue`, `--job` ids, `--sink`. */
export interface DeadLetterFilter {
  queue: string;
  job?: string[];
  sink?: string;
}

export interface DeadLetter {
  queue: Queue;
  job: Job<AnyJobData>;
}

/** Checks `--queue` and `--sink` together, before anything connects. */
export function checkFilter(filter: DeadLetterFilter): void {
  if (!['events', 'deliveries', 'all'].includes(filter.queue))
    throw new UsageError(`--queue must be events, deliveries or all (got '${filter.queue}')`);
  if (filter.sink !== undefined && filter.queue === 'events')
    throw new UsageError('--sink applies to the deliveries queue');
}

async function* failedJobs(queue: Queue): AsyncGenerator<Job<AnyJobData>> {
  // Retrying or removing takes a job out of the failed set, so page through a snapshot of the ids first.
  const ids: string[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getFailed(start, start + PAGE - 1);
    ids.push(...page.map((j) => j.id).filter((id): id is string => id !== undefined));
    if (page.length < PAGE) break;
  }
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (job) yield job as Job<AnyJobData>;
  }
}

/** The dead letters the filter selects, queue by queue. */
export async function* selectDeadLetters(
  queues: Awaited<ReturnType<typeof openQueues>>,
  filter: DeadLetterFilter,
): AsyncGenerator<DeadLetter> {
  const selected: Queue[] = [];
  if (filter.queue !== 'deliveries' && filter.sink === undefined) selected.push(queues.events);
  if (filter.queue !== 'events') selected.push(queues.deliveries);
  const wanted = filter.job ? new Set(filter.job) : undefined;
  for (const queue of selected) {
    for await (const job of failedJobs(queue)) {
      if (wanted && !wanted.has(String(job.id))) continue;
      if (filter.sink !== undefined && job.data?.sinkName !== filter.sink) continue;
      yield { queue, job };
    }
  }
}

/** One line naming a dead letter: queue, id, order, sink, why it failed. */
export function describeDeadLetter({ queue, job }: DeadLetter): string {
  const sink = job.data?.sinkName ? ` sink=${job.data.sinkName}` : '';
  return `${queue.name} ${job.id} order=${job.data?.orderId ?? '?'}${sink}: ${job.failedReason}`;
}

/**
 * What the filter asked for and did not find, as lines to print: a `--job` id that is no dead
 * letter, a `--sink` with none. Empty when everything asked for was found.
 */
export function unmatched(filter: DeadLetterFilter, found: readonly DeadLetter[]): string[] {
  const lines: string[] = [];
  const ids = new Set(found.map((d) => String(d.job.id)));
  for (const id of filter.job ?? []) if (!ids.has(id)) lines.push(`no dead letter with job id '${id}'`);
  if (filter.sink !== undefined && found.length === 0)
    lines.push(`no dead letter for sink '${filter.sink}' (dead letters per sink: status)`);
  return lines;
}
