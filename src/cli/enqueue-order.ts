import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseEnv } from '../config.js';
import { FETCH_ORDER_JOB, newEventJobId, type EventJobData } from '../queues.js';
import { ORDER_ID_PATTERN } from '../orders/order-id.js';
import { UsageError, type CliContext } from './io.js';
import { openQueues } from './redis-for-cli.js';

export const ENQUEUE_ORDER_HELP = `enqueue-order <orderId>...
  Queues a look-up of each order as if MORI had announced it: the recovery path for events MORI
  gave up on while the receiver was down. Sinks that already have the order's current state are
  not sent it again.`;

export async function enqueueOrder(ctx: CliContext): Promise<number> {
  const { positionals } = parseArgs({ args: ctx.args, allowPositionals: true, options: {} });
  if (positionals.length === 0) throw new UsageError('give at least one order id');
  const bad = positionals.filter((id) => !ORDER_ID_PATTERN.test(id));
  if (bad.length > 0) throw new UsageError(`not an order id: ${bad.join(', ')} (MORI's ids are strings of digits)`);
  const env = parseEnv(ctx.env);
  const queues = await openQueues(env);
  try {
    for (const orderId of positionals) {
      const data: EventJobData = {
        eventId: `manual-${randomUUID()}`,
        eventType: 'manual.enqueue-order',
        orderId,
        occurredAt: null,
        receivedAt: new Date().toISOString(),
        generation: 'manual',
      };
      const job = await queues.events.add(FETCH_ORDER_JOB, data, { jobId: newEventJobId() });
      ctx.out(`queued order ${orderId} as job ${job.id} (event ${data.eventId})`);
    }
    return 0;
  } finally {
    await queues.close();
  }
}
