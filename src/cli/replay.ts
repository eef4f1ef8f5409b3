import { parseArgs } from 'node:util';
import type { Job, Queue } from 'bullmq';
import { parseEnv } from '../config.js';
import type { DeliveryJobData, EventJobData } from '../queues.js';
import { replayFailedJob } from '../replay-failed-job.js';
import { UsageError, type CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const REPLAY_HELP = `replay [--queue events|deliveries|all] [--job ID]... [--sink NAME] [--dry-run]
  Puts dead-lettered (failed) jobs back to work, with fresh retry budgets, and prints each one it
  moves. --job picks jobs by id; --sink picks failed deliveries to one sink. Deliveries stay
  deduplicated: a state a sink already has is not sent again.`;

const PAGE = 500;

/** What a dead letter of either queue may carry; every field optional, read for display and filtering. */
type AnyJobData = Partial<EventJobData & DeliveryJobData>;

async function* failedJobs(queue: Queue): AsyncGenerator<Job<AnyJobData>> {
  // Retrying removes a job from the failed set, so page through a snapshot of the ids first.
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

export async function replay(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      queue: { type: 'string', default: 'all' },
      job: { type: 'string', multiple: true },
      sink: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (!['events', 'deliveries', 'all'].includes(values.queue))
    throw new UsageError('--queue must be events, deliveries or all');
  if (values.sink && values.queue === 'events') throw new UsageError('--sink applies to the deliveries queue');
  const env = parseEnv(ctx.env);
  const queues = await openQueues(env);
  try {
    const selected: Queue[] = [];
    if (values.queue !== 'deliveries' && !values.sink) selected.push(queues.events);
    if (values.queue !== 'events') selected.push(queues.deliveries);
    const wanted = values.job ? new Set(values.job) : undefined;
    let moved = 0;
    for (const queue of selected) {
      for await (const job of failedJobs(queue)) {
        if (wanted && !wanted.has(String(job.id))) continue;
        if (values.sink && job.data?.sinkName !== values.sink) continue;
        const what = `${queue.name} ${job.id} order=${job.data?.orderId ?? '?'}${job.data?.sinkName ? ` sink=${job.data.sinkName}` : ''}: ${job.failedReason}`;
        if (values['dry-run']) {
          ctx.out(`would replay ${what}`);
        } else {
          await replayFailedJob(job);
          ctx.out(`replayed ${what}`);
        }
        moved++;
      }
    }
    ctx.out(`${values['dry-run'] ? 'would replay' : 'replayed'} ${moved} job(s)`);
    return 0;
  } finally {
    await queues.close();
  }
}
