import { parseArgs } from 'node:util';
import type { Queue } from 'bullmq';
import { parseEnv } from '../config.js';
import { readIntakeDepth } from '../intake-depth.js';
import { QUEUE_STATES as STATES } from '../queues.js';
import { UsageError, type CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const STATUS_HELP = `status [--json] [--watch [--interval SECONDS]]
  Job counts per queue (waiting, prioritized, active, delayed, failed = dead letters, completed), the age of the
  oldest waiting job (- when none waits), the events accepted and not yet jobs (the intake), and dead-lettered
  deliveries per sink. --watch prints it again every --interval seconds (default 2) until Ctrl-C.`;

/** --watch's default refresh: often enough to see a backlog move, rare enough to cost Redis nothing. */
const DEFAULT_INTERVAL_S = 2;

type QueueReport = Record<(typeof STATES)[number], number> & { oldestWaitingSeconds: number | null };

async function queueStatus(queue: Queue): Promise<QueueReport> {
  const [counts, oldest] = await Promise.all([queue.getJobCounts(...STATES), queue.getJobs(['waiting'], 0, 0, true)]);
  const byState = Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0])) as Record<(typeof STATES)[number], number>;
  // null, not 0, when nothing waits: "0 s" would read as a job that has just arrived.
  return { ...byState, oldestWaitingSeconds: oldest[0] ? Math.round((Date.now() - oldest[0].timestamp) / 1000) : null };
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

type Queues = Awaited<ReturnType<typeof openQueues>>;

async function report(queues: Queues, prefix: string) {
  const intake = await readIntakeDepth(queues.redis, prefix);
  return {
    queues: {
      [queues.events.name]: await queueStatus(queues.events),
      [queues.deliveries.name]: await queueStatus(queues.deliveries),
    },
    intake: {
      entries: intake.entries,
      oldestSeconds: intake.oldestSeconds === undefined ? null : Math.round(intake.oldestSeconds),
    },
    deadLettersBySink: await deadLettersBySink(queues.deliveries),
  };
}

function printTable(ctx: CliContext, r: Awaited<ReturnType<typeof report>>): void {
  ctx.out(`${'queue'.padEnd(18)}${STATES.map((s) => s.padStart(11)).join('')}${'oldest wait'.padStart(13)}`);
  for (const [name, q] of Object.entries(r.queues)) {
    const age = q.oldestWaitingSeconds === null ? '-' : `${q.oldestWaitingSeconds}s`;
    ctx.out(`${name.padEnd(18)}${STATES.map((s) => String(q[s]).padStart(11)).join('')}${age.padStart(13)}`);
  }
  ctx.out(
    r.intake.entries === 0
      ? 'intake: empty (every accepted event is a job)'
      : `intake: ${r.intake.entries} accepted events not yet jobs, oldest ${r.intake.oldestSeconds}s (a worker promotes them)`,
  );
  const sinks = Object.entries(r.deadLettersBySink);
  ctx.out(
    sinks.length === 0
      ? 'no dead-lettered deliveries'
      : `dead-lettered deliveries: ${sinks.map(([s, n]) => `${s}=${n}`).join(' ')}`,
  );
}

/** Resolves after `ms`, or at once when the signal aborts (Ctrl-C ends --watch between two reports). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function status(ctx: CliContext, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
    },
  });
  if (values.interval !== undefined && !values.watch) throw new UsageError('--interval applies to --watch');
  const interval = Number(values.interval ?? DEFAULT_INTERVAL_S);
  if (!Number.isFinite(interval) || interval < 0.1)
    throw new UsageError(`--interval must be a number of seconds, at least 0.1 (got '${values.interval}')`);
  const env = parseEnv(ctx.env);
  const queues = await openQueues(env);
  try {
    for (;;) {
      const r = await report(queues, env.REDIS_PREFIX);
      const at = new Date().toISOString();
      // Watching with --json: one JSON line per report (with its time), for a program to read.
      if (values.json) ctx.out(values.watch ? JSON.stringify({ at, ...r }) : JSON.stringify(r, null, 2));
      else {
        if (values.watch) ctx.out(`${at} (every ${interval} s; Ctrl-C to stop)`);
        printTable(ctx, r);
      }
      if (!values.watch) return 0;
      await pause(interval * 1000, signal);
      if (signal.aborted) return 0;
      if (!values.json) ctx.out('');
    }
  } finally {
    await queues.close();
  }
}
