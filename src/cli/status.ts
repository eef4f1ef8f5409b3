import { parseArgs } from 'node:util';
import type { Queue } from 'bullmq';
import { parseEnv } from '../config.js';
import { QUEUE_STATES as STATES } from '../queues.js';
import type { CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const STATUS_HELP = `status [--json]
  Job counts per queue (waiting, prioritized, active, delayed, failed = dead letters, completed), the age of the
  oldest waiting job, and dead-lettered deliveries per sink.`;

async function queueStatus(queue: Queue): Promise<Record<(typeof STATES)[number] | 'oldestWaitingSeconds', number>> {
  const [counts, oldest] = await Promise.all([queue.getJobCounts(...STATES), queue.getJobs(['waiting'], 0, 0, true)]);
  const byState = Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0])) as Record<(typeof STATES)[number], number>;
  return { ...byState, oldestWaitingSeconds: oldest[0] ? Math.round((Date.now() - oldest[0].timestamp) / 1000) : 0 };
}

async function deadLettersBySink(queue: Queue): Promise<Record<string, number>> {
  const bySink: Record<string, number> = {};
  const PAGE = 1000;
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getFailed(start, start + PAGE - 1);
    for (const job of page) {
      const sink = (job.data as { sinkName?: string } | undefined)?.sinkName ?? '?';
      bySink[sink] = (bySink[sink] ?? 0) + 1;
    }
    if (page.length < PAGE) return bySink;
  }
}

export async function status(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args: ctx.args, options: { json: { type: 'boolean', default: false } } });
  const queues = await openQueues(parseEnv(ctx.env));
  try {
    const report = {
      queues: {
        [queues.events.name]: await queueStatus(queues.events),
        [queues.deliveries.name]: await queueStatus(queues.deliveries),
      },
      deadLettersBySink: await deadLettersBySink(queues.deliveries),
    };
    if (values.json) {
      ctx.out(JSON.stringify(report, null, 2));
      return 0;
    }
    ctx.out(`${'queue'.padEnd(18)}${STATES.map((s) => s.padStart(11)).join('')}${'oldest wait'.padStart(13)}`);
    for (const [name, q] of Object.entries(report.queues)) {
      ctx.out(
        `${name.padEnd(18)}${STATES.map((s) => String(q[s]).padStart(11)).join('')}${`${q.oldestWaitingSeconds}s`.padStart(13)}`,
      );
    }
    const sinks = Object.entries(report.deadLettersBySink);
    ctx.out(
      sinks.length === 0
        ? 'no dead-lettered deliveries'
        : `dead-lettered deliveries: ${sinks.map(([s, n]) => `${s}=${n}`).join(' ')}`,
    );
    return 0;
  } finally {
    await queues.close();
  }
}
