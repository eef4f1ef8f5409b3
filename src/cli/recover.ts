import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createMetrics } from '../metrics.js';
import { createWebhooksApi } from '../mori/webhooks-api.js';
import { createReconcileProcessor } from '../worker/reconcile-job.js';
import { UsageError, type CliContext } from './io.js';
import { moriForCli } from './mori-for-cli.js';
import { openQueues } from './redis-for-cli.js';

export const RECOVER_HELP = `recover --since <time> [--until <time>] [--webhook <id>]
  Recovers what MORI could not deliver in that range (ISO dates or times, UTC): asks MORI to
  resend every FAILED event of each webhook (or the one named), 7 days and at most 50 events per
  call, then sweeps MORI's order list back to --since for final orders that never reached a sink.
  Running it twice delivers nothing twice.`;

const DAY_MS = 86_400_000;
/** MORI's retry-failed takes calendar dates at most 7 days apart (docs/mori-api.md, "Webhooks"). */
const WINDOW_DAYS = 7;
/** MORI resends at most this many events per retry-failed call. */
const PER_CALL = 50;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * The retry-failed windows covering [since, until]: UTC calendar dates (MORI names no time zone),
 * starting a day early so a different zone at MORI loses nothing, each at most 7 days apart.
 */
export function recoveryWindows(sinceMs: number, untilMs: number): { fromDate: string; toDate: string }[] {
  const first = Date.parse(`${day(sinceMs - DAY_MS)}T00:00:00.000Z`);
  const last = Date.parse(`${day(untilMs)}T00:00:00.000Z`);
  const windows: { fromDate: string; toDate: string }[] = [];
  for (let from = first; from <= last; from += WINDOW_DAYS * DAY_MS) {
    windows.push({ fromDate: day(from), toDate: day(Math.min(last, from + (WINDOW_DAYS - 1) * DAY_MS)) });
  }
  return windows;
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(
      `${name} is not a date or time: ${value} (use ISO 8601, e.g. 2026-11-30 or 2026-11-30T08:00:00Z)`,
    );
  return ms;
}

export async function recover(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: { since: { type: 'string' }, until: { type: 'string' }, webhook: { type: 'string' } },
  });
  const since = time(values.since, '--since');
  if (since === undefined) throw new UsageError('--since is required');
  const until = time(values.until, '--until') ?? Date.now();
  if (until < since) throw new UsageError('--until is before --since');
  const { env, mori } = moriForCli(ctx.env);
  const api = createWebhooksApi(mori);
  try {
    // 1. MORI's own redelivery: its log knows every event it gave up on.
    const ids = values.webhook ? [values.webhook] : (await api.list()).map((h) => h.id);
    if (ids.length === 0) ctx.out('no webhooks registered at MORI: nothing to resend');
    const totals = { resent: 0, failedAgain: 0, calls: 0 };
    for (const id of ids) {
      for (const { fromDate, toDate } of recoveryWindows(since, until)) {
        // Call again while more than one call's worth is left and the last call resent something;
        // events whose resend fails stay FAILED, so "nothing left" may never come.
        for (let left = Infinity; left > 0;) {
          const r = await api.retryFailed(id, fromDate, toDate);
          totals.calls += 1;
          totals.resent += r.succeeded;
          totals.failedAgain += r.failed;
          if (r.total > 0)
            ctx.out(
              `webhook ${id}, ${fromDate}..${toDate}: ${r.total} failed; resent ${r.succeeded}, failed again ${r.failed}`,
            );
          left = r.total > PER_CALL && r.succeeded > 0 && r.total < left ? r.total : 0;
        }
      }
    }
    ctx.out(
      `MORI resent ${totals.resent} event(s) in ${totals.calls} call(s); ${totals.failedAgain} failed again (is the receiver up?)`,
    );

    // 2. Our own sweep of MORI's order list over the same range, for what MORI never logged as failed.
    const queues = await openQueues(env);
    try {
      const sweep = createReconcileProcessor({
        config: env,
        mori,
        events: queues.events,
        redis: queues.redis,
        metrics: createMetrics(),
        logger: pino({ level: 'silent' }),
      });
      const result = await sweep({ sinceMs: since });
      ctx.out(
        `swept ${result.pages} page(s) of MORI's order list (${result.orders} orders): ${result.missed} final order(s) had not reached the sinks and are queued now`,
      );
    } finally {
      await queues.close();
    }
    return 0;
  } finally {
    await mori.close();
  }
}
