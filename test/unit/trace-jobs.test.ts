import { DelayedError, RateLimitError, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { DeliveryJobData, EventJobData } from '../../src/queues.js';
import type { SpanAttributes, Tracing } from '../../src/tracing.js';
import { traceDeliver, traceFetchOrder } from '../../src/worker/trace-jobs.js';
import { rejectionOf } from '../helpers/rejection-of.js';

/** A Tracing that writes down what it was told: the active span's attributes and each span of its own. */
function recordingTracing() {
  const active: SpanAttributes = {};
  const spans: { name: string; attributes: SpanAttributes }[] = [];
  const tracing: Tracing = {
    bullmq: undefined,
    fastifyPlugin: undefined,
    annotate: (a) => Object.assign(active, a),
    inSpan: (name, attributes, work) => {
      const span = { name, attributes: { ...attributes } };
      spans.push(span);
      return work((a) => Object.assign(span.attributes, a));
    },
    shutdown: async () => undefined,
  };
  return { tracing, active, spans };
}

const eventJob = { data: { eventId: 'evt-1', orderId: '42' } } as Job<EventJobData>;
const deliveryJob = {
  data: { sinkName: 'crm', deliveryId: 'dlv_1', orderId: '42', event: { eventId: 'evt-1' } },
} as Job<DeliveryJobData>;

describe('the fetch-order job on its span', () => {
  it('carries the ids and, once final, the state and its sinks', async () => {
    const { tracing, active } = recordingTracing();
    const run = traceFetchOrder(
      async () => ({ deliveryId: 'dlv_1', status: 'complete', sinks: ['crm', 'vault'] }),
      tracing,
    );
    await run(eventJob);
    expect(active).toEqual({
      'mori.event_id': 'evt-1',
      'mori.order_id': '42',
      'mori.outcome': 'final',
      'mori.order_status': 'complete',
      'mori.delivery_id': 'dlv_1',
      'mori.sinks': 'crm,vault',
    });
  });

  it.each([
    [new DelayedError(), 'pending'],
    [new RateLimitError(), 'held'],
    [new Error('MORI answered 503'), 'failed'],
  ])('names how a run that threw %s ended', async (err, outcome) => {
    const { tracing, active } = recordingTracing();
    const run = traceFetchOrder(() => Promise.reject(err), tracing);
    expect(await rejectionOf(run(eventJob), Error)).toBe(err);
    expect(active['mori.outcome']).toBe(outcome);
  });
});

describe('each delivery in a span of its own', () => {
  it.each([
    [{ outcome: 'delivered' } as const, 'delivered'],
    [{ outcome: 'skipped', reason: 'delivered' } as const, 'duplicate'],
    [{ outcome: 'skipped', reason: 'stale' } as const, 'stale'],
  ])('named after the sink, with outcome %j → %s', async (result, outcome) => {
    const { tracing, spans } = recordingTracing();
    expect(await traceDeliver(async () => result, tracing)(deliveryJob)).toBe(result);
    expect(spans).toEqual([
      {
        name: 'deliver crm',
        attributes: {
          'mori.sink': 'crm',
          'mori.delivery_id': 'dlv_1',
          'mori.order_id': '42',
          'mori.event_id': 'evt-1',
          'mori.outcome': outcome,
        },
      },
    ]);
  });

  it('failed when the sink refused', async () => {
    const { tracing, spans } = recordingTracing();
    const err = new Error('sink "crm" answered 500');
    expect(await rejectionOf(traceDeliver(() => Promise.reject(err), tracing)(deliveryJob), Error)).toBe(err);
    expect(spans[0]?.attributes['mori.outcome']).toBe('failed');
  });
});
