import { parseArgs } from 'node:util';
import { parseEnv } from '../config.js';
import type { HistoryEntry } from '../history/order-history.js';
import { readOrderHistory, type OrderTimeline } from '../history/read-order-history.js';
import { ORDER_ID_PATTERN } from '../orders/order-id.js';
import { UsageError, type CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const DELIVERIES_HELP = `deliveries <orderId> [--json]
  One order's history, oldest first: each event received (and duplicates answered), each MORI
  look-up, each delivery attempt per sink (outcome, HTTP status or error, duration, next retry), and
  whether the ledger holds it as delivered. The same history as the dashboard's /admin/orders page.`;

function describeEntry(e: HistoryEntry, duplicates: Record<string, number>): string {
  if (e.kind === 'received') {
    const dups = duplicates[e.eventId] ?? 0;
    return `received  event ${e.eventId} ${e.eventType} (${e.generation})${dups > 0 ? `, ${dups} duplicate(s) answered` : ''}`;
  }
  if (e.kind === 'lookup') {
    const outcome = { final: 'final', 'not-final': 'not final yet', 'rate-limited': '429', error: 'error' }[e.outcome];
    const details = [e.status && `status ${e.status}`, e.httpStatus && `HTTP ${e.httpStatus}`, e.error].filter(Boolean);
    return `lookup    ${e.apiVersion} ${e.purpose}: ${outcome}${details.length ? ` (${details.join(', ')})` : ''}, ${e.durationMs} ms`;
  }
  const details = [e.reason, e.httpStatus && `HTTP ${e.httpStatus}`, e.error].filter(Boolean);
  return `attempt   ${e.sink} #${e.attempt}: ${e.outcome}${details.length ? ` (${details.join(', ')})` : ''}, ${e.durationMs} ms${e.nextRetryAt ? `, next retry ${e.nextRetryAt}` : ''}`;
}

function print(ctx: CliContext, t: OrderTimeline): void {
  const name = (t.envelope?.data as { order?: { orderName?: unknown } } | undefined)?.order?.orderName;
  ctx.out(`order ${t.orderId}${typeof name === 'string' ? ` "${name}"` : ''}`);
  for (const e of t.entries) ctx.out(`${e.at}  ${describeEntry(e, t.duplicates)}`);
  for (const l of t.ledger) {
    ctx.out(
      `ledger    ${l.sink} ${l.deliveryId}: ${l.deliveredAt ? `delivered at ${l.deliveredAt}` : 'not delivered'}`,
    );
  }
}

export async function deliveries(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: ctx.args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const [orderId, ...extra] = positionals;
  if (orderId === undefined) throw new UsageError('the order id is missing');
  if (extra.length > 0) throw new UsageError(`one order id at a time (also got ${extra.join(' ')})`);
  if (!ORDER_ID_PATTERN.test(orderId)) {
    throw new UsageError(`"${orderId.slice(0, 80)}" is not an order id (1 to 64 letters, digits, "_" or "-")`);
  }
  const env = parseEnv(ctx.env);
  const queues = await openQueues(env);
  try {
    const timeline = await readOrderHistory(queues.redis, env.REDIS_PREFIX, orderId);
    if (!timeline) {
      ctx.err(
        `no history for order ${orderId}: it was never received here, or it is older than the dedupe window (DEDUPE_WINDOW_SECONDS=${env.DEDUPE_WINDOW_SECONDS})`,
      );
      return 1;
    }
    if (values.json) ctx.out(JSON.stringify(timeline, null, 2));
    else print(ctx, timeline);
    return 0;
  } finally {
    await queues.close();
  }
}
