import { parseArgs } from 'node:util';
import { loadConfig, parseEnv } from '../config.js';
import {
  checkFilter,
  describeDeadLetter,
  selectDeadLetters,
  unmatched,
  type DeadLetter,
} from './dead-letter-selection.js';
import { UsageError, type CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const DEAD_LETTERS_HELP = `dead-letters list [--queue events|deliveries|all] [--sink NAME] [--job ID]... [--json]
dead-letters discard (--sink NAME | --job ID... | --all) [--queue events|deliveries|all] [--dry-run]
  list: every dead-lettered (failed) job with its order, sink and last error; deliveries to a sink
  that is no longer in SINKS are marked. discard: deletes the dead letters chosen, for good (a sink
  removed from SINKS, an order nobody wants); each is printed. One of --sink, --job or --all is
  required, so nothing is discarded by accident; --job or --sink that matches nothing exits 1.`;

/** The sinks the service is configured with, or undefined when the configuration does not load here. */
function configuredSinks(env: NodeJS.ProcessEnv): Set<string> | undefined {
  try {
    return new Set(loadConfig(env).sinks.map((s) => s.name));
  } catch {
    return undefined;
  }
}

export async function deadLetters(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: ctx.args,
    allowPositionals: true,
    options: {
      queue: { type: 'string', default: 'all' },
      job: { type: 'string', multiple: true },
      sink: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const [action, ...extra] = positionals;
  if (action !== 'list' && action !== 'discard')
    throw new UsageError(`give an action: list or discard${action ? ` (got '${action}')` : ''}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const filter = { queue: values.queue, job: values.job, sink: values.sink };
  checkFilter(filter);
  if (action === 'discard') {
    const chosen = [values.sink !== undefined, values.job !== undefined, values.all].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('discard needs exactly one of --sink NAME, --job ID or --all');
  } else if (values.all || values['dry-run']) {
    throw new UsageError('--all and --dry-run apply to discard');
  }
  const queues = await openQueues(parseEnv(ctx.env));
  try {
    const found: DeadLetter[] = [];
    if (action === 'list') {
      const sinks = configuredSinks(ctx.env);
      for await (const dead of selectDeadLetters(queues, filter)) {
        found.push(dead);
        const sink = dead.job.data?.sinkName;
        const gone = sink !== undefined && sinks !== undefined && !sinks.has(sink);
        if (values.json) {
          const { job, queue } = dead;
          ctx.out(
            JSON.stringify({
              queue: queue.name,
              jobId: job.id,
              orderId: job.data?.orderId,
              sink,
              sinkConfigured: sink === undefined || sinks === undefined ? undefined : !gone,
              failedReason: job.failedReason,
              failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
              attempts: job.attemptsMade,
            }),
          );
        } else {
          ctx.out(`${describeDeadLetter(dead)}${gone ? '  [sink not in SINKS: replay cannot deliver it]' : ''}`);
        }
      }
      if (!values.json) ctx.out(`${found.length} dead letter(s)`);
    } else {
      for await (const dead of selectDeadLetters(queues, filter)) {
        found.push(dead);
        if (!values['dry-run']) await dead.job.remove();
        ctx.out(`${values['dry-run'] ? 'would discard' : 'discarded'} ${describeDeadLetter(dead)}`);
      }
      ctx.out(`${values['dry-run'] ? 'would discard' : 'discarded'} ${found.length} dead letter(s)`);
    }
    const missing = unmatched(filter, found);
    for (const line of missing) ctx.err(line);
    return missing.length === 0 ? 0 : 1;
  } finally {
    await queues.close();
  }
}
