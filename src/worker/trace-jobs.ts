import { DelayedError, RateLimitError, type Job } from 'bullmq';
import type { DeliveryJobData, EventJobData } from '../queues.js';
import type { Tracing } from '../tracing.js';
import type { DeliverResult } from './deliver-job.js';
import type { FetchOrderResult } from './fetch-order-job.js';

/** How a run ended that did not deliver: looked again later, held by the budget, or failed. */
function outcomeOfError(err: unknown): string {
  if (err instanceof DelayedError) return 'pending';
  if (err instanceof RateLimitError) return 'held';
  return 'failed';
}

/**
 * The fetch-order processor with its ids and outcome on BullMQ's `process` span (docs/interface.md,
 * "Traces"): the span a webhook's trace continues into.
 */
export function traceFetchOrder(
  fetchOrder: (job: Job<EventJobData>, token?: string) => Promise<FetchOrderResult>,
  tracing: Tracing,
): (job: Job<EventJobData>, token?: string) => Promise<FetchOrderResult> {
  return async (job, token) => {
    tracing.annotate({ 'mori.event_id': job.data.eventId, 'mori.order_id': job.data.orderId });
    try {
      const result = await fetchOrder(job, token);
      tracing.annotate({
        'mori.outcome': 'final',
        'mori.order_status': result.status,
        'mori.delivery_id': result.deliveryId,
        'mori.sinks': result.sinks.join(','),
      });
      return result;
    } catch (err) {
      tracing.annotate({ 'mori.outcome': outcomeOfError(err) });
      throw err;
    }
  };
}

const DELIVER_OUTCOMES = { delivered: 'delivered', skipped: { delivered: 'duplicate', stale: 'stale' } } as const;

/** Each delivery to a sink in a span of its own, named after the sink, with how it ended. */
export function traceDeliver(
  deliver: (job: Job<DeliveryJobData>) => Promise<DeliverResult>,
  tracing: Tracing,
): (job: Job<DeliveryJobData>) => Promise<DeliverResult> {
  return (job) => {
    const { sinkName, deliveryId, orderId, event } = job.data;
    return tracing.inSpan(
      `deliver ${sinkName}`,
      {
        'mori.sink': sinkName,
        'mori.delivery_id': deliveryId,
        'mori.order_id': orderId,
        'mori.event_id': event.eventId,
      },
      async (annotate) => {
        try {
          const result = await deliver(job);
          annotate({
            'mori.outcome':
              result.outcome === 'delivered' ? DELIVER_OUTCOMES.delivered : DELIVER_OUTCOMES.skipped[result.reason],
          });
          return result;
        } catch (err) {
          annotate({ 'mori.outcome': 'failed' });
          throw err;
        }
      },
    );
  };
}
