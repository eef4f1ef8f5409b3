import { parseArgs } from 'node:util';
import { parseEnv } from '../config.js';
import {
  checkFilter,
  describeDeadLetter,
  selectDeadLetters,
  unmatched,
  type DeadLetter,
} from './dead-letter-selection.js';
import type { CliContext } from './io.js';
import { replayFailedJob } from '../replay-failed-job.js';
import { openQueues } from './redis-for-cli.js';

export const REPLAY_HELP = `replay [--queue events|deliveries|all] [--job ID]... [--sink NAME] [--dry-run]
  Puts dead-lettered (failed) jobs back to work, with fresh retry budgets, and prints each one it
  moves. --job picks jobs by id; --sink picks failed deliveries to one sink; either exits 1 when
  it matches nothing. Deliveries stay deduplicated: a state a sink already has is not sent again.
  Dead letters that should not run again (a sink removed from SINKS): dead-letters discard.`;

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
  const filter = { queue: values.queue, job: values.job, sink: values.sink };
  checkFilter(filter);
  const env = parseEnv(ctx.env);
  const queues = await openQueues(env);
  try {
    const found: DeadLetter[] = [];
    for await (const dead of selectDeadLetters(queues, filter)) {
      const what = describeDeadLetter(dead);
      if (values['dry-run']) {
        ctx.out(`would replay ${what}`);
      } else {
        await replayFailedJob(dead.job);
        ctx.out(`replayed ${what}`);
      }
      found.push(dead);
    }
    ctx.out(`${values['dry-run'] ? 'would replay' : 'replayed'} ${found.length} job(s)`);
    // Asked for by name and not found: a typo, or a job already replayed; say so, and fail.
    const missing = unmatched(filter, found);
    for (const line of missing) ctx.err(line);
    return missing.length === 0 ? 0 : 1;
  } finally {
    await queues.close();
  }
}
